namespace EdgePatchCore.Agent.Teach;

/// <summary>A frame id that was not taught, with the reason.</summary>
public sealed record RefusedFrame(string FrameId, string Reason);
