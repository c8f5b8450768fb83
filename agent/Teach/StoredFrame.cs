using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Teach;

/// <summary>A kept frame: its image file and the verdict it got.</summary>
public sealed record StoredFrame(long Number, string FrameId, string ImagePath, long Bytes, Verdict Verdict);
