using EdgePatchCore.Messaging;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// Durable: every verdict's JSON into an <see cref="Outbox"/> under <paramref name="topic"/>, before its frame counts as
/// done (an outbox's append is written and flushed, or throws). One class for every outbox a feature drains: the JSON
/// topics' (drained by the broker connection) and Sparkplug's (drained by the edge node, which first keeps a defect's heat
/// map, <paramref name="before"/>).
/// </summary>
public sealed class OutboxSink(Outbox outbox, string topic, bool usesHeatmaps = false, Action<ScoredFrame>? before = null) : IScoredFrameSink
{
    public SinkKind Kind => SinkKind.Durable;
    public bool UsesHeatmaps => usesHeatmaps;

    public ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel)
    {
        before?.Invoke(frame);
        outbox.Append(topic, frame.VerdictJson);
        return ValueTask.CompletedTask;
    }
}
