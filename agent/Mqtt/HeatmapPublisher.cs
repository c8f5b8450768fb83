using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Pipeline;

namespace EdgePatchCore.Agent.Mqtt;

/// <summary>
/// Best effort (Agent:Publishing:Heatmaps): the heat map of each defect frame on {prefix}/heatmap, with its frameId. Not
/// kept for later: one that cannot be published (broker unreachable, over its packet size) is counted as a "heatmap" drop.
/// </summary>
public sealed class HeatmapPublisher(ITransientPublisher broker, TopicNames topics, DropCounter drops) : IScoredFrameSink
{
    public SinkKind Kind => SinkKind.BestEffort;
    public bool UsesHeatmaps => true;

    public ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel)
    {
        if (frame.Verdict.Result != Verdict.Defect || frame.Heatmap() is not { } jpeg) return ValueTask.CompletedTask;
        _ = broker.PublishTransientAsync(topics.Heatmap, jpeg, CancellationToken.None, frame.Verdict.FrameId).ContinueWith(published =>
        {
            if (!published.IsCompletedSuccessfully || !published.Result)
                drops.Drop("heatmap", "a heat map was not published (broker unreachable, or over its packet size): heat maps are not kept for later");
        }, TaskScheduler.Default);
        return ValueTask.CompletedTask; // the scoring loop never waits for a heat map
    }
}
