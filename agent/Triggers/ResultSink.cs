using EdgePatchCore.Agent.Pipeline;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>Durable: a triggered frame's verdict becomes its part's answer (or a late result) in the outbox before the frame counts as
/// done.</summary>
public sealed class ResultSink(TriggerBook book) : IScoredFrameSink
{
    public SinkKind Kind => SinkKind.Durable;
    public bool UsesHeatmaps => false;

    public ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel)
    {
        if (frame.Frame.PartId is not null) book.Complete(frame);
        return ValueTask.CompletedTask;
    }
}
