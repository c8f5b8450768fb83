using EdgePatchCore.Diagnostics;
using EdgePatchCore.Trainer.Benchmarks;
using EdgePatchCore.Trainer.Cli;

namespace EdgePatchCore.Trainer.Commands;

public sealed class BenchCommand : ICommand
{
    public string Name => "bench";
    public string Summary => "benchmarks that print figures (coreset selection, scoring latency, the accuracy/speed sweep)";
    public string Usage => "coreset --data DIR | --projection-file F [--fraction 0.1] [options]   |   scoring --artifact P.pcb [options]   |   " +
        "decode [--iterations N]   |   knn --artifact P.pcb --export DIR   |   sweep --data DIR --out DIR [--points A,B]";
    public string Description =>
        "coreset: extracts the training features of DIR once, then times, in the same process and on the\n" +
        "same int8 projection, a memory-bandwidth probe, the plain streaming greedy selection and the\n" +
        "accelerated one, and the GPU kernel when a CUDA device is there (not with --device cpu); prints the\n" +
        "speed-up, the plain pass's bandwidth as a share of the probe, whether the selected indices are\n" +
        "identical, the coverage radii and the peak memory. --projection-file reads a projection saved by\n" +
        "--save-projection instead of extracting features (packaging/gpu-bundle.sh uses that).\n" +
        "scoring: per-frame latency of an artifact at batch 1 and 8 (median, p95) split into decode + resize,\n" +
        "(a tiled model: batch 1, split into decode, tiling, backbone, kNN and stitching, with the tile count)\n" +
        "backbone + embedding and kNN + score + map, frames per second, then the kNN alone (query patches/s,\n" +
        "effective GFLOP/s) with each bank precision, beside plain ONNX Runtime Gemm (float32) and MatMulInteger\n" +
        "(int8) runs of the same shapes, all timed in turn in the same rounds (--precision picks the one timed above);\n" +
        "then the bounded search against the exhaustive one on every frame (good frames: a 'good' folder in the path):\n" +
        "milliseconds, speed-up, share of the bank compared, patches searched exactly, and identical verdicts.\n" +
        "decode: decode time of 1600 x 1200 and 2448 x 2048 PNG and JPEG frames, plain and guarded, then\n" +
        "with scaling to 0.5 and with cutting 224-pixel tiles into the network input.\n" +
        "knn: embeds 8 frames, exports the bank and their patches (raw float32) to --export DIR and times the\n" +
        "kNN alone for k = 1 and k = 9; trainer/Benchmarks/knn-vs-faiss.sh runs faiss on the same files.\n" +
        "sweep: builds and evaluates one model per point of the accuracy/speed grid on an MVTec-layout DIR\n" +
        "(input size, coreset, dimensions, layers; see docs/ACCURACY.md), then times every model at batch 1 in\n" +
        "turn, and writes OUT/sweep.md and OUT/pareto.png. Points already measured in OUT are kept.";

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
        new("out", "sweep: folder for the models, results, table and plot", "DIR"),
        new("points", "sweep: only these points (names as in docs/ACCURACY.md)", "A,B", "all"),
        new("timing-frames", "sweep: test frames timed per model and round", "N", "20"),
        new("frames", "scoring: folder of frame images", "DIR", "8 synthetic gasket frames"),
        new("iterations", "scoring, knn: timed runs per batch size / per k", "N", "10"),
        new("batches", "scoring: the batch sizes timed (whole-frame models)", "A,B", "1,8"),
        new("search-rounds", "scoring: times each frame is scored by each search in the exhaustive-vs-bounded comparison", "N", "1"),
        new("export", "knn: folder for bank.f32, queries.f32, shape.txt and the timings", "DIR"),
        CommonOptions.Batch,
        CommonOptions.Device,
        CommonOptions.Precision,
        CommonOptions.Search,
        CommonOptions.BackbonePrecision,
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count == 1 && args.Positional[0] == "knn")
        {
            new KnnBenchmark(context.Out).Run(new KnnBenchmarkOptions(args.Require("artifact"), args.Get("frames"), args.Require("export"),
                CommonOptions.ParseDevice(args), args.Int("iterations", 1, 10000), CommonOptions.ParsePrecision(args)), context.Cancel);
            return TrainerApp.ExitOk;
        }
        if (args.Positional.Count == 1 && args.Positional[0] == "sweep")
        {
            var only = args.Get("points")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            new AccuracySweep(context.Out, context.CreateProgress()).Run(new AccuracySweepOptions(args.Require("data"), args.Require("out"), only,
                CommonOptions.ParseDevice(args), args.Int("timing-frames", 1, 10000)), context.Cancel);
            return TrainerApp.ExitOk;
        }
        if (args.Positional.Count == 1 && args.Positional[0] == "decode")
        {
            new DecodeBenchmark(context.Out).Run(args.Int("iterations", 1, 10000), context.Cancel);
            return TrainerApp.ExitOk;
        }
        if (args.Positional.Count == 1 && args.Positional[0] == "scoring")
        {
            new ScoringBenchmark(context.Out).Run(new ScoringBenchmarkOptions(args.Require("artifact"), args.Get("frames"),
                CommonOptions.ParseDevice(args), args.Int("iterations", 1, 10000), CommonOptions.ParsePrecision(args),
                args.Parsed("batches", ParseBatches), CommonOptions.ParseSearch(args), args.Int("search-rounds", 1, 100),
                CommonOptions.ParseBackbonePrecision(args)), context.Cancel);
            return TrainerApp.ExitOk;
        }
        if (args.Positional.Count != 1 || args.Positional[0] != "coreset")
            throw new UsageException("expected the benchmark name: coreset, scoring, decode, knn or sweep");
        if (args.Has("data") == args.Has("projection-file"))
            throw new UsageException("coreset needs --data DIR or --projection-file FILE");
        var options = new CoresetBenchmarkOptions(
            args.Get("data"),
            args.Get("projection-file"),
            args.Get("save-projection"),
            args.Double("fraction", 1e-6, 1),
            args.OptionalInt("images", 1),
            args.Int("seed", 0),
            CommonOptions.ParseBatch(args),
            CommonOptions.ParseDevice(args),
            args.Has("skip-plain"));
        new CoresetBenchmark(context.Out, context.CreateProgress()).Run(options, context.Cancel);
        return TrainerApp.ExitOk;
    }

    private static int[] ParseBatches(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var sizes = parts.Select(p => int.TryParse(p, out int n) && n is >= 1 and <= 1024 ? n : 0).ToArray();
        if (sizes.Length == 0
            || sizes.Any(n => n == 0)) throw new ArgumentException($"expected batch sizes 1..1024 separated by commas, not '{text}'");
        return sizes;
    }
}
