using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Web;

/// <summary>
/// The last N verdicts of each kind (ok, defect, error) with their heat-map thumbnails, for the live page. Bounded
/// (oldest of its kind out first) and in memory only: the outbox, not this, is what keeps verdicts safe.
/// </summary>
public sealed class RecentFrames : Pipeline.IScoredFrameSink
{
    public Pipeline.SinkKind Kind => Pipeline.SinkKind.BestEffort;
    public bool UsesHeatmaps => Capacity > 0;

    public ValueTask AcceptAsync(Pipeline.ScoredFrame frame, CancellationToken cancel)
    {
        Add(frame.Verdict, frame.Heatmap());
        return ValueTask.CompletedTask;
    }

    private readonly Dictionary<string, Queue<RecentFrame>> _byResult = new(StringComparer.Ordinal); // verdict kind -> its last frames
    private readonly object _lock = new();
    private long _added;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RecentFrames(int capacity) => Capacity = Math.Max(0, capacity);

    /// <summary>Frames kept of each verdict kind; 0 when the page is off: nothing is kept and no thumbnails are rendered.</summary>
    public int Capacity { get; }

    /// <summary>How many frames were ever added; it changes with every frame.</summary>
    public long Added { get { lock (_lock) return _added; } }

    public void Add(Verdict verdict, byte[]? overlay)
    {
        if (Capacity == 0) return;
        TaskCompletionSource changed;
        lock (_lock)
        {
            // The last Capacity frames of each verdict (ok, defect, error): a run of defects never hides the good parts.
            if (!_byResult.TryGetValue(verdict.Result, out var frames)) _byResult[verdict.Result] = frames = new();
            frames.Enqueue(new RecentFrame(++_added, verdict, overlay));
            if (frames.Count > Capacity) frames.Dequeue();
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>The frames held, newest first.</summary>
    public IReadOnlyList<RecentFrame> Snapshot()
    {
        lock (_lock) return _byResult.Values.SelectMany(q => q).OrderByDescending(f => f.Number).ToList();
    }

    public byte[]? Overlay(long number)
    {
        lock (_lock) return _byResult.Values.SelectMany(q => q).FirstOrDefault(f => f.Number == number)?.Overlay;
    }

    /// <summary>Completes when a frame is added after this call, or when <paramref name="timeout"/> passes.</summary>
    public async Task WaitForFrameAsync(TimeSpan timeout, CancellationToken cancel)
    {
        Task changed;
        lock (_lock) changed = _changed.Task;
        await Task.WhenAny(changed, Task.Delay(timeout, cancel));
        cancel.ThrowIfCancellationRequested();
    }
}
