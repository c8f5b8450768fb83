using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Pipeline;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>
/// Durable (Agent:Sparkplug:Enabled): every verdict into the edge node's own outbox before its frame counts as done, the
/// heat map of a defect frame kept first, so that the DDATA that reports the verdict carries it.
/// </summary>
public sealed class SparkplugVerdictSink(SparkplugFeed feed) : IScoredFrameSink
{
    public SinkKind Kind => SinkKind.Durable;
    public bool UsesHeatmaps => true;

    public ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel)
    {
        if (frame.Verdict.Result == Verdict.Defect && frame.Heatmap() is { } jpeg) feed.Heatmap(frame.Verdict.FrameId, jpeg);
        feed.Store(frame.VerdictJson);
        return ValueTask.CompletedTask;
    }
}
