namespace EdgePatchCore.Agent.Hosting;

/// <summary>Registered once per frame source a feature module adds: the configuration needs at least one (counted, not named).</summary>
public sealed record FrameSourceRegistration(string Name);
