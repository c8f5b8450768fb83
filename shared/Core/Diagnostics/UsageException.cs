namespace EdgePatchCore.Diagnostics;

/// <summary>A mistake in how a command was called: printed with a pointer to --help, exit code 2.</summary>
public sealed class UsageException(string message) : UserFacingException(message)
{
    public override int ExitCode => ExitCodes.Usage;
}
