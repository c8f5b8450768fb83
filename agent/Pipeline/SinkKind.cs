namespace EdgePatchCore.Agent.Pipeline;

/// <summary>When a sink gets a scored frame, and what its failure means (<see cref="SinkChain"/>).</summary>
public enum SinkKind
{
    /// <summary>Must hold the verdict before the frame counts as done (an outbox): a failure is retried, scoring waits.</summary>
    Durable,
    /// <summary>Gets the frame after its source was told it is done; a failure is logged and lost (heat maps, kept frames, the page).</summary>
    BestEffort,
}
