namespace EdgePatchCore.Diagnostics;

/// <summary>
/// A failure whose message is meant for the user (a bad file, a missing folder, a refused model, a mistyped option):
/// shown as one "error:" line with its <see cref="ExitCode"/>, never as a stack trace. Every such exception derives
/// from this type, so each program maps them to exit codes in one place (trainer: TrainerApp; demo: DemoProgram).
/// </summary>
public abstract class UserFacingException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The process exit code this failure ends a command with.</summary>
    public virtual int ExitCode => ExitCodes.Failure;
}
