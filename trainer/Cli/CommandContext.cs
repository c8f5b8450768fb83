namespace EdgePatchCore.Trainer.Cli;

/// <summary>What a command needs from the outside world; tests pass their own writers.</summary>
public sealed class CommandContext(TextWriter output, TextWriter error, bool interactive, CancellationToken cancel)
{
    public TextWriter Out { get; } = output;
    public TextWriter Error { get; } = error;
    public bool Interactive { get; } = interactive;
    public CancellationToken Cancel { get; } = cancel;
    /// <summary>The command's log and progress on the error stream (a bar on a terminal).</summary>
    public ConsoleProgress CreateProgress() => new(Error, Interactive);
}
