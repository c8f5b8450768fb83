namespace EdgePatchCore.Diagnostics;

/// <summary>
/// A failure whose message is meant for the user (a bad file, a missing folder, a refused model): shown as one
/// "error:" line with exit code 1, never as a stack trace. Every such exception derives from this type, so the
/// commands map them to exit codes in one place (trainer: TrainerApp).
/// </summary>
public abstract class UserFacingException(string message, Exception? inner = null) : Exception(message, inner);
