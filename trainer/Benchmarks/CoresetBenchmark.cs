using EdgePatchCore.Trainer.Cli;
using Microsoft.Extensions.Logging;
using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Coreset;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Training;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>
/// Extracts the training features once (or reads a saved projection), then runs in the same process on the same int8 projection:
/// a bandwidth probe, the plain streaming greedy and the accelerated one; prints times, speed-up,
/// bandwidth shares, whether the selections are identical, and peak memory.
/// </summary>
public sealed class CoresetBenchmark(TextWriter output, ConsoleProgress console)
{
    public void Run(CoresetBenchmarkOptions options, CancellationToken cancel)
    {
        var (rows, source) = options.ProjectionFile is { } file
            ? (QuantizedRows.Load(file), $"projection {Path.GetFileName(file)}")
            : Extract(options, cancel);
        if (options.SaveProjection is { } save) rows.Save(save);
        int n = rows.Count, d = rows.Dimensions;
        int size = Math.Max(1, (int)Math.Round(n * options.Fraction));
        long rowBytes = d; // int8
        output.WriteLine($"coreset benchmark: {source}, {n} patches x {d} (int8), {size} steps ({options.Fraction:P1}), " +
            $"{Environment.ProcessorCount} threads");

        double probe = MemoryProbe.ReadBandwidth(MemoryMarshal.AsBytes(rows.Data.AsSpan(0, n * d)).ToArray());
        output.WriteLine($"memory bandwidth probe    {probe / 1e9,8:F1} GB/s  (SIMD read of the {n * rowBytes / 1e6:F0} MB projection)");

        CoresetResult? plain = null;
        double plainSeconds = 0;
        if (!options.SkipPlain)
        {
            var clock = Stopwatch.StartNew();
            using var plainSampler = new PlainGreedySampler();
            plain = plainSampler.Run(rows, size, options.Seed, new Renamed(console, "plain greedy"), cancel);
            plainSeconds = clock.Elapsed.TotalSeconds;
            double bandwidth = (double)size * n * rowBytes / plainSeconds;
            output.WriteLine($"plain greedy             {plainSeconds,8:F1} s     streams {bandwidth / 1e9:F1} GB/s = {bandwidth / probe:P0} of " +
                $"the probe; radius {plain.CoverageRadius:G6}");
        }
        var fast = Stopwatch.StartNew();
        using var pruned = new PrunedGreedySampler();
        var accelerated = pruned.Run(rows, size, options.Seed, new Renamed(console, "accelerated"), cancel);
        double fastSeconds = fast.Elapsed.TotalSeconds;
        output.WriteLine($"accelerated greedy       {fastSeconds,8:F1} s     {accelerated.PrunedShare:P0} not read (of the int8 row data; the " +
            $"first 32 principal dimensions settle most points); {size} steps in {accelerated.Passes} passes (batches of centres); " +
            $"radius {accelerated.CoverageRadius:G6}");
        if (plain is not null)
        {
            output.WriteLine($"speed-up: {plainSeconds / fastSeconds:F2}");
            
            output.WriteLine("indices: " + Compare(plain, accelerated, "plain", "accelerated"));
        }
        if (options.Device != DeviceKind.Cpu)
        {
            using var gpu = CoresetSamplers.TryGpu(out string reason);
            if (gpu is null) output.WriteLine($"gpu greedy: not run ({reason})");
            else
            {
                var clock = Stopwatch.StartNew();
                var onGpu = gpu.Run(rows, size, options.Seed, new Renamed(console, "gpu greedy"), cancel);
                output.WriteLine($"gpu greedy ({gpu.Name}) {clock.Elapsed.TotalSeconds,8:F1} s     radius {onGpu.CoverageRadius:G6}");
                output.WriteLine("gpu indices: " + Compare(accelerated, onGpu, "cpu", "gpu"));
            }
        }
        using var self = Process.GetCurrentProcess();
        output.WriteLine($"peak memory: {self.PeakWorkingSet64 / (1024.0 * 1024 * 1024):F2} GiB");
    }

    private (QuantizedRows, string) Extract(CoresetBenchmarkOptions options, CancellationToken cancel)
    {
        string data = options.Data ?? throw new ArgumentException("--data or --projection-file is needed");
        var dataset = DatasetFolder.Open(data);
        var files = dataset.TrainingImages.Take(options.Images ?? int.MaxValue).ToList();
        if (files.Count == 0) throw new DatasetException($"no training images in {data}");
        var defaults = new BuildOptions { Product = "bench", DataDirectory = data };
        var device = new ExecutionDevice(options.Device);
        var backbone = BackbonePreparer.Prepare(defaults.Backbone, defaults.Input);
        using var extractor = new FeatureExtractor(backbone, defaults.Input, device);
        var projection = new RandomProjection(extractor.Dimensions, defaults.ProjectionDimensions, options.Seed);
        var reader = new ImageBatchReader(new ImageLoader(), defaults.Input, options.BatchSize);
        var patches = new EmbeddingPass(extractor, projection, console, console)
            .Run(files, reader, spill: null, (_, reason) => console.LogWarning($"skipped: {reason}"), cancel);
        return (patches.Rows, $"{patches.Images} images");
    }

    private static string Compare(CoresetResult a, CoresetResult b, string nameA, string nameB)
    {
        int diff = Enumerable.Range(0, a.Indices.Length).FirstOrDefault(i => a.Indices[i] != b.Indices[i], -1);
        return diff < 0 ? "identical" : $"differ first at step {diff} ({nameA} {a.Indices[diff]}, {nameB} {b.Indices[diff]})";
    }

    /// <summary>Names the two selection runs apart in the progress output.</summary>
    private sealed class Renamed(IProgress<StageProgress> inner, string name) : IProgress<StageProgress>
    {
        public void Report(StageProgress value) => inner.Report(value with { Stage = name });
    }
}
