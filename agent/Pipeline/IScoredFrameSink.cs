namespace EdgePatchCore.Agent.Pipeline;

/// <summary>
/// A consumer of scored frames, registered with the container (each feature registers its own in its Add... module);
/// the scoring worker hands every frame to all of them through the <see cref="SinkChain"/>: durable sinks first, in
/// registration order, then the frame's source is told it is done, then best-effort sinks. A new consumer (an OPC UA
/// server, a historian) is a new sink and one line of registration.
/// </summary>
public interface IScoredFrameSink
{
    SinkKind Kind { get; }

    /// <summary>Whether this sink may ask for <see cref="ScoredFrame.Heatmap"/>: the worker then keeps decoded frames for it.</summary>
    bool UsesHeatmaps { get; }

    /// <summary>Takes one frame. A durable sink throws <see cref="IOException"/> (or UnauthorizedAccessException) when it cannot store it: it is
    /// asked again.</summary>
    ValueTask AcceptAsync(ScoredFrame frame, CancellationToken cancel);
}
