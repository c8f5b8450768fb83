namespace EdgePatchCore.Trainer.Cli;

/// <summary>One `trainer` sub-command.</summary>
public interface ICommand
{
    string Name { get; }
    string Summary { get; }
    /// <summary>The usage line after `trainer NAME`, e.g. "P.pcb IMAGE... [options]".</summary>
    string Usage { get; }
    IReadOnlyList<OptionSpec> Options { get; }
    /// <summary>Longer text under the usage in --help.</summary>
    string Description { get; }
    int Run(CommandLine args, CommandContext context);
}

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
