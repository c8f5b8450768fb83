using System.CommandLine;
using System.CommandLine.Parsing;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Trainer.Cli;
using EdgePatchCore.Trainer.Commands;

namespace EdgePatchCore.Trainer;

/// <summary>Dispatches `trainer COMMAND ...` and turns every user-facing failure into one clear line and an exit code.</summary>
public static class TrainerApp
{
    public const int ExitOk = ExitCodes.Ok, ExitFailure = ExitCodes.Failure, ExitUsage = ExitCodes.Usage, ExitCancelled = ExitCodes.Cancelled;

    public static IReadOnlyList<ICommand> Commands { get; } =
    [
        new SynthCommand(), new BuildCommand(), new ExtendCommand(), new CollectCommand(), new EvaluateCommand(), new ScoreCommand(),
            new InspectCommand(), new KeygenCommand(), new SignCommand(), new DeployCommand(), new BenchCommand(), new CompletionCommand(),
    ];

    public static int Run(string[] args, TextWriter output, TextWriter error, bool interactive = false, CancellationToken cancel = default)
    {
        if (args.Length == 0)
        {
            PrintOverview(error);
            return ExitUsage;
        }
        if (args[0] == "help") args = args.Length > 1 ? [args[1], "--help"] : ["--help"];
        var (root, commands) = CommandTree();
        if (!args[0].StartsWith('-') && !Commands.Any(c => c.Name == args[0]))
        {
            error.WriteLine($"error: unknown command '{args[0]}'. Commands: {string.Join(", ", Commands.Select(c => c.Name))}. See 'trainer " +
                $"--help'.");
            return ExitUsage;
        }
        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        try
        {
            var parsed = root.Parse(args);
            if (command is null)
            {
                // trainer --help, --version, or options without a command.
                if (args[0] == "--version") { output.WriteLine($"trainer {Version}"); return ExitOk; }
                bool help = parsed.Action is System.CommandLine.Help.HelpAction;
                PrintOverview(help ? output : error);
                return help ? ExitOk : ExitUsage;
            }
            if (parsed.Action is System.CommandLine.Help.HelpAction) return parsed.Invoke(new InvocationConfiguration { Output = output,
                Error = error });
            return command.Run(Read(parsed, commands[command.Name]), new CommandContext(output, error, interactive, cancel));
        }
        catch (UserFacingException e)
        {
            error.WriteLine(e is UsageException ? $"error: {e.Message}. See 'trainer " +
                $"{(command is null ? "" : command.Name + " ")}--help'." : $"error: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("cancelled; nothing was written");
            return ExitCancelled;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // The runtime's own file errors (a full disk, a permission) carry a message meant for the user too.
            error.WriteLine($"error: {e.Message}");
            return ExitFailure;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("EDGEPATCHCORE_DEBUG") is null)
        {
            error.WriteLine($"internal error: {e.GetType().Name}: {e.Message}");
            error.WriteLine("This is a bug in EdgePatchCore. Run again with EDGEPATCHCORE_DEBUG=1 for the full trace and report it.");
            return ExitFailure;
        }
    }

    public static string Version => typeof(TrainerApp).Assembly.GetName().Version?.ToString(3) ?? "0";

    private static void PrintOverview(TextWriter w)
    {
        w.WriteLine($"trainer {Version}: builds and evaluates EdgePatchCore anomaly-detection models (PatchCore).");
        w.WriteLine();
        w.WriteLine("Usage: trainer COMMAND [options]      (trainer COMMAND --help for details)");
        w.WriteLine();
        foreach (var c in Commands) w.WriteLine($"  {c.Name,-10} {c.Summary}");
        w.WriteLine();
        w.WriteLine("Example: trainer synth --product gasket && trainer build --product gasket --out gasket.pcb");
    }

    /// <summary>
    /// What may follow <paramref name="words"/> (the command line as typed: "trainer", then the words, the last one
    /// the word being completed, possibly empty): the commands, or the current command's options, that start with it.
    /// </summary>
    public static IEnumerable<string> Completions(string[] words)
    {
        var (root, _) = CommandTree();
        string partial = words[^1];
        var parsed = root.Parse(words.Skip(1).SkipLast(1).ToArray());
        var command = parsed.CommandResult.Command;
        IEnumerable<string> names = command == root
            ? root.Subcommands.Select(c => c.Name)
            : command.Options.Where(o => !o.Hidden).Select(o => o.Name);
        return names.Where(n => n.StartsWith(partial, StringComparison.Ordinal)).Order(StringComparer.Ordinal);
    }

    /// <summary>The parsed arguments of <paramref name="args"/> (without the command name) for one command.</summary>
    public static CommandLine Parse(ICommand command, string[] args)
    {
        var (root, commands) = CommandTree();
        return Read(root.Parse([command.Name, .. args]), commands[command.Name]);
    }

    /// <summary>
    /// The System.CommandLine tree of every command, made from the commands' own option lists (names, help, value
    /// names and defaults in one place, <see cref="ICommand.Options"/>), so that --help, completion and parsing agree.
    /// </summary>
    private static (Command Root, Dictionary<string, CommandOptions> Commands) CommandTree()
    {
        // Named "trainer" whatever process hosts it (the tests run it in theirs), so help always says "trainer COMMAND".
        var root = new Command("trainer", $"trainer {Version}: builds and evaluates EdgePatchCore anomaly-detection models (PatchCore).")
        {
            new System.CommandLine.Help.HelpOption { Recursive = true },
        };
        var commands = new Dictionary<string, CommandOptions>();
        foreach (var c in Commands)
        {
            // The usage line goes first in the description; the positional argument shows only the names it takes (P.pcb, IMAGE...).
            var command = new Command(c.Name, $"{c.Summary}{Environment.NewLine}{Environment.NewLine}usage: trainer {c.Name} {c.Usage}" +
                                              (c.Description.Length > 0 ? Environment.NewLine + Environment.NewLine + c.Description : ""));
            string[] names = c.Usage.Split(' ', StringSplitOptions.RemoveEmptyEntries).TakeWhile(t => !t.StartsWith('-') && !t.StartsWith("[-",
                StringComparison.Ordinal) && t != "|").ToArray();
            var positional = new Argument<string[]>("arguments")
            {
                Arity = ArgumentArity.ZeroOrMore, HelpName = names.Length > 0 ? string.Join(" ", names) : "arguments", Hidden = names.Length == 0,
            };
            command.Arguments.Add(positional);
            var options = new Dictionary<string, Option>();
            foreach (var spec in c.Options)
            {
                Option option = spec.IsFlag
                    ? new Option<bool>("--" + spec.Name) { Description = spec.Help, Arity = ArgumentArity.Zero }
                    : new Option<string>("--" + spec.Name) { Description = spec.Help + (spec.Default is null ? "" : $" (default: {spec.Default})"),
                        HelpName = spec.ValueName };
                command.Options.Add(option);
                options[spec.Name] = option;
            }
            command.SetAction(_ => ExitOk); // commands run through ICommand.Run, with their exit codes
            root.Subcommands.Add(command);
            commands[c.Name] = new CommandOptions(command, positional, options, c.Options);
        }
        root.SetAction(_ => ExitUsage);
        return (root, commands);
    }

    private sealed record CommandOptions(Command Command, Argument<string[]> Positional, Dictionary<string, Option> Options,
        IReadOnlyList<OptionSpec> Specs);

    /// <summary>The parse result as the commands read it; a parse error or an unknown option is a <see cref="UsageException"/>.</summary>
    private static CommandLine Read(ParseResult parsed, CommandOptions command)
    {
        if (parsed.Errors.Count > 0) throw new UsageException(parsed.Errors[0].Message.TrimEnd('.'));
        var positional = parsed.GetValue(command.Positional) ?? [];
        // An option-like word the command does not know lands among the arguments: a typo must not pass silently.
        foreach (var token in parsed.Tokens)
        {
            if (token.Type == TokenType.DoubleDash) break; // after "--" every word is an argument
            if (token.Type == TokenType.Argument && token.Value.Length > 2 && token.Value.StartsWith("--", StringComparison.Ordinal)
                && positional.Contains(token.Value))
                throw new UsageException($"unknown option {token.Value.Split('=')[0]} for '{command.Command.Name}'");
        }
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, option) in command.Options)
        {
            if (parsed.GetResult(option) is not { Implicit: false } result) continue;
            values[name] = option is Option<bool> ? null : result.GetValueOrDefault<string>();
        }
        return new CommandLine(positional, values, command.Specs);
    }
}
