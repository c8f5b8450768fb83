using EdgePatchCore.Artifacts;
using EdgePatchCore.Embedding;
using EdgePatchCore.Datasets;
using EdgePatchCore.Imaging;
using EdgePatchCore.Trainer.Cli;
using EdgePatchCore.Trainer.Commands;
using EdgePatchCore.Training;

namespace EdgePatchCore.Trainer;

/// <summary>Dispatches `trainer COMMAND ...` and turns every user-facing failure into one clear line and an exit code.</summary>
public static class TrainerApp
{
    public const int ExitOk = 0, ExitFailure = 1, ExitUsage = 2, ExitCancelled = 130;

    public static IReadOnlyList<ICommand> Commands { get; } =
    [
        new SynthCommand(), new BuildCommand(), new ExtendCommand(), new CollectCommand(), new EvaluateCommand(), new ScoreCommand(), new InspectCommand(), new KeygenCommand(), new SignCommand(), new DeployCommand(), new BenchCommand(),
    ];

    public static int Run(string[] args, TextWriter output, TextWriter error, bool interactive = false, CancellationToken cancel = default)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintOverview(args.Length == 0 ? error : output);
            return args.Length == 0 ? ExitUsage : ExitOk;
        }
        if (args[0] == "--version") { output.WriteLine($"trainer {Version}"); return ExitOk; }
        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            error.WriteLine($"error: unknown command '{args[0]}'. Commands: {string.Join(", ", Commands.Select(c => c.Name))}. See 'trainer --help'.");
            return ExitUsage;
        }
        try
        {
            var line = new CommandLine(command.Name, args[1..], command.Options);
            if (line.HelpRequested) { PrintHelp(command, output); return ExitOk; }
            return command.Run(line, new CommandContext(output, error, interactive, cancel));
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}. See 'trainer {command.Name} --help'.");
            return ExitUsage;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("cancelled; nothing was written");
            return ExitCancelled;
        }
        catch (Exception e) when (e is EdgePatchCore.Diagnostics.UserFacingException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
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

    private static void PrintHelp(ICommand c, TextWriter w)
    {
        w.WriteLine($"trainer {c.Name}: {c.Summary}");
        w.WriteLine();
        w.WriteLine($"Usage: trainer {c.Name} {c.Usage}");
        if (c.Description.Length > 0) { w.WriteLine(); w.WriteLine(c.Description); }
        w.WriteLine();
        w.WriteLine("Options:");
        foreach (var o in c.Options)
        {
            string left = o.IsFlag ? $"--{o.Name}" : $"--{o.Name} {o.ValueName}";
            string def = o.Default is null ? "" : $" (default: {o.Default})";
            w.WriteLine($"  {left,-28} {o.Help}{def}");
        }
        w.WriteLine($"  {"-h, --help",-28} show this help");
    }
}
