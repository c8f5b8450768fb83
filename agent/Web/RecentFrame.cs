using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Web;

/// <summary>One scored frame as the live page shows it; <see cref="Overlay"/> is the heat map over the frame (JPEG at the model's input
/// size).</summary>
public sealed record RecentFrame(long Number, Verdict Verdict, byte[]? Overlay);
