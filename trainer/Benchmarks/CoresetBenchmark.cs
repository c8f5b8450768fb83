using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgePatchCore.Backbones;
using EdgePatchCore.Coreset;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Features;
using EdgePatchCore.Imaging;
using EdgePatchCore.Training;

namespace EdgePatchCore.Trainer.Benchmarks;

public sealed record CoresetBenchmarkOptions(string Data, double Fraction, int? Images, int Seed, int BatchSize, DeviceKind Device, bool SkipPlain);

/// <summary>
/// Extracts the training features once, then runs in the same process on the same float16 projection:
/// a bandwidth probe, the plain streaming greedy and the accelerated one; prints times, speed-up,
/// bandwidth shares, whether the selections are identical, and peak memory.
/// </summary>
public sealed class CoresetBenchmark(TextWriter output, IReporter reporter)
{
    public void Run(CoresetBenchmarkOptions options, CancellationToken cancel)
    {
        var dataset = DatasetFolder.Open(options.Data);
        var files = dataset.TrainingImages.Take(options.Images ?? int.MaxValue).ToList();
        if (files.Count == 0) throw new DatasetException($"no training images in {options.Data}");
        var defaults = new BuildOptions { Product = "bench", DataDirectory = options.Data };
        var device = new ExecutionDevice(options.Device);
        var backbone = BackbonePreparer.Prepare(defaults.Backbone, defaults.Input);
        using var extractor = new FeatureExtractor(backbone, defaults.Input, device);
        var projection = new RandomProjection(extractor.Dimensions, defaults.ProjectionDimensions, options.Seed);
        var reader = new ImageBatchReader(new ImageLoader(), defaults.Input, options.BatchSize);
        var patches = new EmbeddingPass(extractor, projection, reporter)
            .Run(files, reader, spill: null, (_, reason) => reporter.Warn($"skipped: {reason}"), cancel);
        int n = patches.Count, d = patches.Dimensions;
        int size = Math.Max(1, (int)Math.Round(n * options.Fraction));
        long rowBytes = (long)d * sizeof(ushort);
        output.WriteLine($"coreset benchmark: {patches.Images} images, {n} patches x {d} (float16), {size} steps ({options.Fraction:P1}), {Environment.ProcessorCount} threads");

        double probe = MemoryProbe.ReadBandwidth(MemoryMarshal.AsBytes(patches.Rows.AsSpan(0, n * d)).ToArray());
        output.WriteLine($"memory bandwidth probe    {probe / 1e9,8:F1} GB/s  (SIMD read of the {n * rowBytes / 1e6:F0} MB projection)");

        CoresetResult? plain = null;
        double plainSeconds = 0;
        if (!options.SkipPlain)
        {
            var clock = Stopwatch.StartNew();
            plain = GreedyCoreset.SelectPlain(patches.Rows, n, d, size, options.Seed, new Prefixed(reporter, "plain greedy"), cancel);
            plainSeconds = clock.Elapsed.TotalSeconds;
            double bandwidth = (double)size * n * rowBytes / plainSeconds;
            output.WriteLine($"plain greedy             {plainSeconds,8:F1} s     streams {bandwidth / 1e9:F1} GB/s = {bandwidth / probe:P0} of the probe; radius {plain.CoverageRadius:G6}");
        }
        var fast = Stopwatch.StartNew();
        var accelerated = GreedyCoreset.Select(patches.Rows, n, d, size, options.Seed, new Prefixed(reporter, "accelerated"), cancel);
        double fastSeconds = fast.Elapsed.TotalSeconds;
        output.WriteLine($"accelerated greedy       {fastSeconds,8:F1} s     {accelerated.PrunedShare:P0} of distance evaluations pruned; radius {accelerated.CoverageRadius:G6}");
        if (plain is not null)
        {
            output.WriteLine($"speed-up: {plainSeconds / fastSeconds:F2}");
            int diff = Enumerable.Range(0, size).FirstOrDefault(i => plain.Indices[i] != accelerated.Indices[i], -1);
            output.WriteLine(diff < 0 ? "indices: identical"
                : $"indices: differ first at step {diff} (plain {plain.Indices[diff]}, accelerated {accelerated.Indices[diff]})");
        }
        using var self = Process.GetCurrentProcess();
        output.WriteLine($"peak memory: {self.PeakWorkingSet64 / (1024.0 * 1024 * 1024):F2} GiB");
    }

    /// <summary>Names the two selection runs apart in the progress output.</summary>
    private sealed class Prefixed(IReporter inner, string name) : IReporter
    {
        public void Info(string message) => inner.Info(message);
        public void Warn(string message) => inner.Warn(message);
        public void Progress(string stage, long done, long total, string? detail = null) => inner.Progress(name, done, total, detail);
    }
}
