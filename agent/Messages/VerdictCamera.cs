namespace EdgePatchCore.Agent.Messages;

/// <summary>The camera's own record of a frame: its frame id and timestamp (the camera's clock, nanoseconds).</summary>
public sealed record VerdictCamera(ulong FrameId, ulong TimestampNs);
