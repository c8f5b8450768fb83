using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Messaging;

namespace EdgePatchCore.Agent.Mqtt;

/// <summary>Durable: every verdict into the outbox for {prefix}/verdict, before its frame counts as done (the <see cref="BrokerConnection"/> drains
/// it).</summary>
public sealed class VerdictOutboxSink(Outbox outbox, TopicNames topics) : IScoredFrameSink
{
    public SinkKind Kind => SinkKind.Durable;
    public bool UsesHeatmaps => false;

    public ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel)
    {
        outbox.Append(topics.Verdict, frame.VerdictJson);
        return ValueTask.CompletedTask;
    }
}
