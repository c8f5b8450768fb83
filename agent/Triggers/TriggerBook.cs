using System.Diagnostics;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Messaging;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>
/// The handshake's ledger: every trigger (a message, or a pulse on the camera's line) is entered with its deadline and gets exactly one
/// answer on {prefix}/result: its frame's verdict when that comes in time, otherwise ERROR at the deadline (a result that comes after that
/// goes to {prefix}/result/late). Answers go to the registered <see cref="IAnswerSink"/>s (the outboxes): none is lost while the broker is away.
/// </summary>
public sealed class TriggerBook(IOptions<AgentOptions> options, IEnumerable<IAnswerSink> sinks, ILogger<TriggerBook> logger)
{
    /// <summary>An answered part is remembered this long, so that its late result is recognised.</summary>
    private static readonly TimeSpan RememberAnswered = TimeSpan.FromMinutes(2);
    private readonly TriggersOptions _options = options.Value.Triggers;
    private readonly IAnswerSink[] _sinks = [.. sinks];
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private ITriggerTarget? _target;
    private long _answered, _late, _expired;

    private sealed class Entry(string partId, string? product, long started)
    {
        public string PartId { get; } = partId;
        public string? Product { get; } = product;
        public long Started { get; } = started;
        public DateTimeOffset TriggeredAt { get; } = DateTimeOffset.UtcNow;
        public bool FrameArrived;
        public long? AnsweredAt; // Stopwatch timestamp of the answer; null while open
    }

    public long Answered => Interlocked.Read(ref _answered);
    public long Late => Interlocked.Read(ref _late);
    /// <summary>Parts answered ERROR at their deadline.</summary>
    public long Expired => Interlocked.Read(ref _expired);

    /// <summary>Triggers waiting for their answer.</summary>
    public int Open { get { lock (_lock) return _entries.Values.Count(e => e.AnsweredAt is null); } }

    /// <summary>Null when a trigger would be taken now, otherwise why not (for the retained state a PLC interlocks on).</summary>
    public string? NotReady
    {
        get
        {
            var target = _target;
            if (target is null) return "the camera is not started yet";
            if (target.NotReady is { } reason) return reason;
            return Open >= _options.MaxPending ? $"busy: {_options.MaxPending} triggers wait for their answers" : null;
        }
    }

    /// <summary>The camera source that fires software triggers.</summary>
    public void Attach(ITriggerTarget target) => _target = target;

    /// <summary>A trigger message: enters the part and fires the camera, or answers ERROR at once (busy, no camera, duplicate part).</summary>
    public void Trigger(string partId, string? product)
    {
        long now = Stopwatch.GetTimestamp();
        var entry = new Entry(partId, product, now);
        lock (_lock)
        {
            Forget(now);
            string? refusal = _target?.RefusesMessages is not null ? ResultCode.BadTrigger
                : _entries.TryGetValue(partId, out var known) && known.AnsweredAt is null ? ResultCode.DuplicatePart
                : _entries.Values.Count(e => e.AnsweredAt is null) >= _options.MaxPending ? ResultCode.Busy
                : _target is null || _target.NotReady is not null ? ResultCode.CameraUnavailable : null;
            if (refusal is not null)
            {
                string detail = refusal switch
                {
                    ResultCode.BadTrigger => _target!.RefusesMessages!,
                    ResultCode.DuplicatePart => $"part {partId} already waits for its answer",
                    ResultCode.Busy => $"{_options.MaxPending} triggers already wait for their answers",
                    _ => _target?.NotReady ?? "the camera is not started yet",
                };
                Answer(new Entry(partId, product, now), Failed(entry, refusal, detail), late: false);
                return;
            }
            _entries[partId] = entry;
        }
        try { _target!.Fire(partId, product); }
        catch (Exception e) when (e is Cameras.CameraException or InvalidOperationException)
        {
            lock (_lock)
                if (entry.AnsweredAt is null) Answer(entry, Failed(entry, ResultCode.CameraUnavailable, e.Message), late: false);
        }
    }

    /// <summary>A frame arrived for a trigger: a software trigger's (entered by <see cref="Trigger"/>) or a hardware line's (entered now).</summary>
    public void FrameArrived(string partId, bool lineTrigger)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(partId, out var entry)) entry.FrameArrived = true;
            else if (lineTrigger) _entries[partId] = new Entry(partId, null, Stopwatch.GetTimestamp()) { FrameArrived = true };
        }
    }

    /// <summary>Whether <paramref name="partId"/> still waits for its answer (a camera source drops fired triggers that no longer do).</summary>
    public bool IsOpen(string partId)
    {
        lock (_lock) return _entries.TryGetValue(partId, out var e) && e.AnsweredAt is null;
    }

    /// <summary>A triggered frame's verdict: the part's answer, or a late result when the deadline already answered it.</summary>
    public void Complete(ScoredFrame frame)
    {
        string partId = frame.Frame.PartId!;
        lock (_lock)
        {
            if (!_entries.TryGetValue(partId, out var entry)) entry = new Entry(partId, null, frame.Frame.ReceivedTimestamp) { AnsweredAt = 0 };
            bool late = entry.AnsweredAt is not null;
            Answer(entry, FromVerdict(entry, frame), late);
        }
    }

    /// <summary>Answers ERROR every part whose deadline has passed; the deadline loop calls this every few milliseconds.</summary>
    public void ExpireDue()
    {
        long now = Stopwatch.GetTimestamp();
        var limit = TimeSpan.FromMilliseconds(_options.DeadlineMilliseconds);
        lock (_lock)
        {
            foreach (var entry in _entries.Values)
            {
                if (entry.AnsweredAt is not null || Stopwatch.GetElapsedTime(entry.Started, now) < limit) continue;
                Interlocked.Increment(ref _expired);
                Answer(entry, entry.FrameArrived
                    ? Failed(entry, ResultCode.ScoringTimeout, $"the frame was not scored within {_options.DeadlineMilliseconds} ms")
                    : Failed(entry, ResultCode.CameraTimeout, $"the camera delivered no frame within {_options.DeadlineMilliseconds} ms"),
                    late: false);
            }
            Forget(now);
        }
    }

    private static InspectionResult Failed(Entry entry, string code, string detail) => new()
    {
        PartId = entry.PartId, Result = InspectionResult.Error, Reason = code, Detail = Text.Cap(detail, Text.MaxError), Product = entry.Product,
        TriggeredAt = entry.TriggeredAt, AnsweredAt = DateTimeOffset.UtcNow, TriggerToResultMs = Elapsed(entry),
    };

    private static InspectionResult FromVerdict(Entry entry, ScoredFrame frame)
    {
        var v = frame.Verdict;
        string? code = v.Result != Verdict.Error ? null
            : frame.Frame.RejectReason is not null ? ResultCode.IncompleteFrame
            : frame.Model is null ? ResultCode.ModelNotLoaded : ResultCode.ScoringFailed;
        return new InspectionResult
        {
            PartId = entry.PartId, 
            Result = v.Result switch
            {
                Verdict.Ok => v.Review == true ? InspectionResult.Review : InspectionResult.Ok, Verdict.Defect => InspectionResult.Nok,
                _ => InspectionResult.Error,
            },
            Reason = code, Detail = v.ErrorText, Score = v.Score, Threshold = v.Threshold, Model = v.Model, Product = v.Product, FrameId = v.FrameId,
            Camera = v.Camera, TriggeredAt = entry.TriggeredAt, AnsweredAt = DateTimeOffset.UtcNow, TriggerToResultMs = Elapsed(entry),
        };
    }

    private static double Elapsed(Entry entry) => Math.Round(Stopwatch.GetElapsedTime(entry.Started).TotalMilliseconds, 3);

    /// <summary>Stores the answer for publishing (under the lock: one answer per part).</summary>
    private void Answer(Entry entry, InspectionResult result, bool late)
    {
        entry.AnsweredAt = Stopwatch.GetTimestamp();
        if (late) result = result with { Late = true };
        foreach (var sink in _sinks)
        {
            try { sink.Accept(result, late); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogError("The answer for part {Part} could not be stored by {Sink} ({Reason}): {Result}", entry.PartId, sink.GetType().Name,
                                e.Message, result.Result);
            }
        }
        if (late) Interlocked.Increment(ref _late);
        else Interlocked.Increment(ref _answered);
        if (result.Result == InspectionResult.Error)
            logger.LogWarning("Part {Part}{Late}: ERROR {Code}: {Detail}", entry.PartId, late ? " (late)" : "", result.Reason, result.Detail);
    }

    private void Forget(long now)
    {
        foreach (var done in _entries.Values.Where(e => e.AnsweredAt is { } at && Stopwatch.GetElapsedTime(at, now) > RememberAnswered).ToList())
            _entries.Remove(done.PartId);
    }
}
