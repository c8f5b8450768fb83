namespace EdgePatchCore.Agent.Pipeline;

/// <summary>The read-only view of <see cref="AgentMetrics"/> and the <see cref="FrameQueue"/>'s depth that publishing and Sparkplug get.</summary>
public sealed class PipelineCounters(AgentMetrics metrics, FrameQueue queue) : IPipelineCounters
{
    public long FramesIn => metrics.FramesIn;
    public long Scored => metrics.Scored;
    public long Defects => metrics.Defects;
    public long Errors => metrics.Errors;
    public long Dropped => metrics.Dropped;
    public long DroppedFor(string? product) => metrics.DroppedFor(product);
    public bool IsOutboxWritable => metrics.IsOutboxWritable;
    public (double P50, double P95, int Frames)? LatencyPercentiles() => metrics.LatencyPercentiles();
    public int QueueDepth => queue.Count;
}
