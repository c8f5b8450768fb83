namespace EdgePatchCore.Diagnostics;

/// <summary>A build that cannot go on; the message is meant for the user.</summary>
public sealed class BuildException(string message) : UserFacingException(message);
