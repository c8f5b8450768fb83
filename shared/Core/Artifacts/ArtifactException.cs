using System.Buffers;

namespace EdgePatchCore.Artifacts;

/// <summary>An artifact that cannot be used; the message is meant for the user.</summary>
public sealed class ArtifactException(string message, Exception? inner = null) : Diagnostics.UserFacingException(message, inner);
