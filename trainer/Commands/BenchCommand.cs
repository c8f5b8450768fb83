using EdgePatchCore.Trainer.Benchmarks;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

public sealed class BenchCommand : ICommand
{
    public string Name => "bench";
    public string Summary => "benchmarks that print figures (coreset selection, scoring latency)";
    public string Usage => "coreset --data DIR | --projection-file F [--fraction 0.1] [options]   |   scoring --artifact P.pcb [options]";
    public string Description =>
        "coreset: extracts the training features of DIR once, then times, in the same process and on the\n" +
        "same int8 projection, a memory-bandwidth probe, the plain streaming greedy selection and the\n" +
        "accelerated one; prints the speed-up, the plain pass's bandwidth as a share of the probe, whether\n" +
        "the selected indices are identical, the coverage radii and the peak memory.\n" +
        "scoring: per-frame latency of an artifact at batch 1 and 8 (median, p95) split into decode + resize,\n" +
        "backbone + embedding and kNN + score + map, frames per second, then the kNN alone (query patches/s,\n" +
        "effective GFLOP/s) beside a plain ONNX Runtime Gemm of the same shapes measured in the same run.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("data", "training images (MVTec layout or flat folder)", "DIR"),
        new("projection-file", "coreset: use a projection saved by --save-projection instead of --data", "FILE"),
        new("save-projection", "coreset: also save the int8 projection to FILE", "FILE"),
        new("fraction", "coreset fraction", "F", "0.1"),
        new("images", "use only the first N images", "N", "all"),
        new("seed", "projection and start-point seed", "N", "0"),
        new("skip-plain", "run only the accelerated selection"),
        new("artifact", "scoring: the model to time", "P.pcb"),
        new("frames", "scoring: folder of frame images", "DIR", "8 synthetic gasket frames"),
        new("iterations", "scoring: timed runs per batch size", "N", "10"),
        CommonOptions.Batch,
        CommonOptions.Device,
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count == 1 && args.Positional[0] == "scoring")
        {
            new ScoringBenchmark(context.Out).Run(new ScoringBenchmarkOptions(args.Require("artifact"), args.Get("frames"),
                CommonOptions.ParseDevice(args), args.GetInt("iterations", 10, 1, 10000)), context.Cancel);
            return TrainerApp.ExitOk;
        }
        if (args.Positional.Count != 1 || args.Positional[0] != "coreset")
            throw new UsageException("expected the benchmark name: coreset or scoring");
        if (args.Has("data") == args.Has("projection-file"))
            throw new UsageException("coreset needs --data DIR or --projection-file FILE");
        var options = new CoresetBenchmarkOptions(
            args.Get("data"),
            args.Get("projection-file"),
            args.Get("save-projection"),
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
