namespace EdgePatchCore.Agent.Messages;

/// <summary>
/// A piece of equipment the agent depends on (a camera), registered by the feature that drives it: the status topic, the live page and
/// /healthz show its state and counts; while it has a <see cref="Problem"/> the agent is degraded.
/// </summary>
public interface IDeviceStatus
{
    /// <summary>"camera 10.0.3.21".</summary>
    string Name { get; }
    /// <summary>Null while it works; otherwise what is wrong, in one sentence.</summary>
    string? Problem { get; }
    /// <summary>Its counts since the agent started (frames, incomplete, reconnects, ...).</summary>
    IReadOnlyDictionary<string, long> Counters { get; }
    /// <summary>Raised when <see cref="Problem"/> changes.</summary>
    event Action? Changed;
}
