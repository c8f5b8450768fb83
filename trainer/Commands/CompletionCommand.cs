using EdgePatchCore.Diagnostics;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

/// <summary>
/// Shell completion from the same command tree that parses and prints help (System.CommandLine's completions):
/// `trainer completion bash` prints the script to source; the script calls `trainer completion --complete`.
/// </summary>
public sealed class CompletionCommand : ICommand
{
    public string Name => "completion";
    public string Summary => "print a bash completion script for trainer (source it from ~/.bashrc)";
    public string Usage => "bash";
    public string Description =>
        "Example: trainer completion bash > ~/.local/share/bash-completion/completions/trainer\nCompletes command names and each command's options.";
    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("complete", "(used by the script) print the completions of the words after --", "N"),
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.OptionalInt("complete", 1, 1000) is { } current)
        {
            var words = args.Positional.Take(current + 1).ToList(); // the words up to the one being completed
            while (words.Count <= current) words.Add("");
            foreach (var item in TrainerApp.Completions([.. words]))
                context.Out.WriteLine(item);
            return TrainerApp.ExitOk;
        }
        if (args.Positional is not ["bash"]) throw new UsageException("expected a shell: bash");
        context.Out.Write("""
            # trainer: bash completion (trainer completion bash)
            _trainer_complete() {
                local IFS=$'\n'
                COMPREPLY=( $(trainer completion --complete "$COMP_CWORD" -- "${COMP_WORDS[@]}" 2>/dev/null) )
            }
            complete -o default -F _trainer_complete trainer

            """);
        return TrainerApp.ExitOk;
    }
}
