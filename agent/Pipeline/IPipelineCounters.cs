namespace EdgePatchCore.Agent.Pipeline;

/// <summary>What publishing sees of the pipeline: its counters, latencies and queue depth (read only).</summary>
public interface IPipelineCounters
{
    long FramesIn { get; }
    long Scored { get; }
    long Defects { get; }
    long Errors { get; }
    long Dropped { get; }
    /// <summary>Dropped frames that named <paramref name="product"/> (null: those that named none).</summary>
    long DroppedFor(string? product);
    bool IsOutboxWritable { get; }
    (double P50, double P95, int Frames)? LatencyPercentiles();
    /// <summary>Frames waiting for the scorer.</summary>
    int QueueDepth { get; }
}
