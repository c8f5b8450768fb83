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
