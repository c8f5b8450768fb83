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
    // Parts waiting for their answer; answered parts (for their late results), with the order they were answered in to forget them.
    private readonly Dictionary<string, Entry> _open = new(StringComparer.Ordinal), _answeredParts = new(StringComparer.Ordinal);
    private readonly Queue<Entry> _answerOrder = new();
    private readonly List<Entry> _due = []; // reused by ExpireDue
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
        public long? AnsweredAt; // Stopwatch timestamp of the answer; null while open (or never entered: a refusal)
    }

    public long Answered => Interlocked.Read(ref _answered);
    public long Late => Interlocked.Read(ref _late);
    /// <summary>Parts answered ERROR at their deadline.</summary>
    public long Expired => Interlocked.Read(ref _expired);

    /// <summary>Triggers waiting for their answer.</summary>
    public int Open { get { lock (_lock) return _open.Count; } }

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
                : _open.ContainsKey(partId) ? ResultCode.DuplicatePart
                : _open.Count >= _options.MaxPending ? ResultCode.Busy
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
                Answer(entry, Failed(entry, refusal, detail), late: false); // not entered: nothing of it is remembered
                return;
            }
            _open[partId] = entry;
        }
        try { _target!.Fire(partId, product); }
        catch (Exception e) when (e is Cameras.CameraException or InvalidOperationException)
        {
            lock (_lock)
                if (_open.TryGetValue(partId, out var still) && ReferenceEquals(still, entry))
                    Answer(entry, Failed(entry, ResultCode.CameraUnavailable, e.Message), late: false);
        }
    }

    /// <summary>A frame arrived for a trigger: a software trigger's (entered by <see cref="Trigger"/>) or a hardware line's (entered now).</summary>
    public void FrameArrived(string partId, bool lineTrigger)
    {
        lock (_lock)
        {
            if (_open.TryGetValue(partId, out var entry)) entry.FrameArrived = true;
            else if (lineTrigger) _open[partId] = new Entry(partId, null, Stopwatch.GetTimestamp()) { FrameArrived = true };
        }
    }

    /// <summary>Whether <paramref name="partId"/> still waits for its answer (a camera source drops fired triggers that no longer do).</summary>
    public bool IsOpen(string partId)
    {
        lock (_lock) return _open.ContainsKey(partId);
    }

    /// <summary>A triggered frame's verdict: the part's answer, or a late result when the deadline already answered it.</summary>
    public void Complete(ScoredFrame frame)
    {
        string partId = frame.Frame.PartId!;
        lock (_lock)
        {
            if (_open.TryGetValue(partId, out var entry)) Answer(entry, FromVerdict(entry, frame), late: false);
            else
            {
                // Answered at its deadline already (or unknown: a part from before a restart): a late result.
                var known = _answeredParts.GetValueOrDefault(partId) ?? new Entry(partId, null, frame.Frame.ReceivedTimestamp);
                Answer(known, FromVerdict(known, frame), late: true);
            }
        }
    }

    /// <summary>Answers ERROR every part whose deadline has passed; the deadline loop calls this every few milliseconds.</summary>
    public void ExpireDue()
    {
        long now = Stopwatch.GetTimestamp();
        var limit = TimeSpan.FromMilliseconds(_options.DeadlineMilliseconds);
        lock (_lock)
        {
            foreach (var entry in _open.Values)
                if (Stopwatch.GetElapsedTime(entry.Started, now) >= limit) _due.Add(entry);
            foreach (var entry in _due)
            {
                Interlocked.Increment(ref _expired);
                Answer(entry, entry.FrameArrived
                    ? Failed(entry, ResultCode.ScoringTimeout, $"the frame was not scored within {_options.DeadlineMilliseconds} ms")
                    : Failed(entry, ResultCode.CameraTimeout, $"the camera delivered no frame within {_options.DeadlineMilliseconds} ms"),
                    late: false);
            }
            _due.Clear();
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

    /// <summary>Stores the answer for publishing (under the lock: one answer per part); an open part moves to the answered ones.</summary>
    private void Answer(Entry entry, InspectionResult result, bool late)
    {
        if (!late && _open.TryGetValue(entry.PartId, out var open) && ReferenceEquals(open, entry))
        {
            _open.Remove(entry.PartId);
            entry.AnsweredAt = Stopwatch.GetTimestamp();
            _answeredParts[entry.PartId] = entry;
            _answerOrder.Enqueue(entry);
        }
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

    /// <summary>Drops the parts answered longer than <see cref="RememberAnswered"/> ago (the oldest first).</summary>
    private void Forget(long now)
    {
        while (_answerOrder.TryPeek(out var oldest) && Stopwatch.GetElapsedTime(oldest.AnsweredAt!.Value, now) > RememberAnswered)
        {
            _answerOrder.Dequeue();
            if (_answeredParts.TryGetValue(oldest.PartId, out var kept) && ReferenceEquals(kept, oldest)) _answeredParts.Remove(oldest.PartId);
        }
    }
}
