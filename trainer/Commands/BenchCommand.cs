using EdgePatchCore.Trainer.Benchmarks;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

public sealed class BenchCommand : ICommand
{
    public string Name => "bench";
    public string Summary => "benchmarks that print figures (coreset selection)";
    public string Usage => "coreset --data DIR [--fraction 0.1] [options]";
    public string Description =>
        "coreset: extracts the training features of DIR once, then times, in the same process and on the\n" +
        "same float16 projection, a memory-bandwidth probe, the plain streaming greedy selection and the\n" +
        "accelerated one; prints the speed-up, the plain pass's bandwidth as a share of the probe, whether\n" +
        "the selected indices are identical, the coverage radii and the peak memory.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("data", "training images (MVTec layout or flat folder)", "DIR"),
        new("fraction", "coreset fraction", "F", "0.1"),
        new("images", "use only the first N images", "N", "all"),
        new("seed", "projection and start-point seed", "N", "0"),
        new("skip-plain", "run only the accelerated selection"),
        CommonOptions.Batch,
        CommonOptions.Device,
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count != 1 || args.Positional[0] != "coreset")
            throw new UsageException("expected the benchmark name: coreset");
        var options = new CoresetBenchmarkOptions(
            args.Require("data"),
            args.GetDouble("fraction", 0.1, 1e-6, 1),
            args.Has("images") ? args.GetInt("images", 0, 1) : null,
            args.GetInt("seed", 0, 0),
            CommonOptions.ParseBatch(args),
            CommonOptions.ParseDevice(args),
            args.Has("skip-plain"));
        new CoresetBenchmark(context.Out, context.CreateReporter()).Run(options, context.Cancel);
        return TrainerApp.ExitOk;
    }
}
