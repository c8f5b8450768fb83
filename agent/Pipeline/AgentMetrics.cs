using EdgePatchCore.Diagnostics;
using EdgePatchCore.Statistics;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>Counters and recent latencies, read by the metrics publisher and the watchdog.</summary>
public sealed class AgentMetrics
{
    private long _framesIn, _scored, _defects, _errors, _dropped;
    /// <summary>Latencies count towards the percentiles for this long.</summary>
    public static readonly TimeSpan LatencyWindow = TimeSpan.FromMinutes(5);
    private readonly (long At, double Ms)[] _latencies = new (long, double)[4096];
    private int _latencyCount, _latencyNext;
    private readonly object _lock = new();
    private long _lastProgressTicks = Environment.TickCount64;

    public long FramesIn => Interlocked.Read(ref _framesIn);
    public long Scored => Interlocked.Read(ref _scored);
    public long Defects => Interlocked.Read(ref _defects);
    public long Errors => Interlocked.Read(ref _errors);
    public long Dropped => Interlocked.Read(ref _dropped);

    private volatile bool _outboxWritable = true;
    /// <summary>False while verdicts cannot be stored (a full or failing state directory).</summary>
    public bool IsOutboxWritable => _outboxWritable;
    public void OutboxWritable(bool writable) => _outboxWritable = writable;

    public void FrameIn() => Interlocked.Increment(ref _framesIn);

    private long _largestBatchBytes;
    /// <summary>The most bytes of decoded frames held at once, by the batch scored and the one decoded (Agent:Pipeline:MaxBatchBytes bounds
    /// them together, a frame over at most for each).</summary>
    public long LargestBatchBytes => Interlocked.Read(ref _largestBatchBytes);
    public void BatchHeld(long bytes)
    {
        long seen;
        while (bytes > (seen = Interlocked.Read(ref _largestBatchBytes)) && Interlocked.CompareExchange(ref _largestBatchBytes, bytes,
            seen) != seen) { }
    }
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _droppedByProduct = new();

    /// <summary>Counts a dropped frame, and against its product when the frame named one.</summary>
    public void FrameDropped(string? product = null)
    {
        Interlocked.Increment(ref _dropped);
        _droppedByProduct.AddOrUpdate(product ?? "", 1, (_, n) => n + 1);
    }

    /// <summary>Dropped frames that named <paramref name="product"/> (null: those that named none).</summary>
    public long DroppedFor(string? product) => _droppedByProduct.GetValueOrDefault(product ?? "");
    public void FrameError() => Interlocked.Increment(ref _errors);

    public void FrameScored(bool defect, double totalMs)
    {
        Interlocked.Increment(ref _scored);
        if (defect) Interlocked.Increment(ref _defects);
        lock (_lock)
        {
            _latencies[_latencyNext] = (Environment.TickCount64, totalMs);
            _latencyNext = (_latencyNext + 1) % _latencies.Length;
            _latencyCount = Math.Min(_latencyCount + 1, _latencies.Length);
        }
    }

    /// <summary>The scoring loop calls this on every pass, so the watchdog can tell it is alive.</summary>
    public void Heartbeat() => Interlocked.Exchange(ref _lastProgressTicks, Environment.TickCount64);
    public TimeSpan SinceHeartbeat => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastProgressTicks));

    /// <summary>
    /// Median and 95th percentile of the total latency (ms) of the frames scored in the last
    /// <see cref="LatencyWindow"/> (at most the last 4096), with their count; null when none.
    /// </summary>
    public (double P50, double P95, int Frames)? LatencyPercentiles()
    {
        long since = Environment.TickCount64 - (long)LatencyWindow.TotalMilliseconds;
        double[] recent;
        lock (_lock) recent = _latencies[.._latencyCount].Where(l => l.At >= since).Select(l => l.Ms).ToArray();
        if (recent.Length == 0) return null;
        var p = Percentile.Many(recent, 0.5, 0.95);
        return (p[0], p[1], recent.Length);
    }
}
