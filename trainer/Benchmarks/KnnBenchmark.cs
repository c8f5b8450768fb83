using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;
using EdgePatchCore.Statistics;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>
/// The kNN alone, for comparisons with other libraries (trainer/Benchmarks/knn-vs-faiss.sh): embeds 8 frames, writes the
/// bank and those query patches as raw little-endian float32 files (bank.f32, queries.f32, shape.txt with
/// "queries bank dimensions threads"), then times this engine's search for k = 1 and k = 9 on them.
/// </summary>
public sealed class KnnBenchmark(TextWriter output)
{
    public void Run(KnnBenchmarkOptions options, CancellationToken cancel)
    {
        var content = ArtifactFile.Read(options.Artifact).Content;
        var device = new ExecutionDevice(options.Device);
        using var scorer = new PatchCoreScorer(content, device);
        var images = ScoringBenchmark.FrameFiles(options.Images, out var temporary);
        try
        {
            int batch = 8, inputLength = scorer.Features.InputLength;
            var buffer = new float[batch * inputLength];
            var loader = new ImageLoader();
            for (int i = 0; i < batch; i++)
                loader.LoadInput(images[i % images.Count], content.Input, buffer.AsSpan(i * inputLength, inputLength));
            var queries = scorer.Features.Extract(buffer, batch);
            int d = content.Bank.Columns, m = content.Bank.Rows, q = queries.Length / d;
            var bank = content.Bank.ToFloats();

            Directory.CreateDirectory(options.Export);
            File.WriteAllBytes(Path.Combine(options.Export, "bank.f32"), content.Bank.Data); // already raw little-endian float32
            WriteRaw(Path.Combine(options.Export, "queries.f32"), MemoryMarshal.AsBytes(queries.AsSpan()));
            File.WriteAllText(Path.Combine(options.Export, "shape.txt"), $"{q} {m} {d} {device.Threads}\n");

            using var knn = BankSearches.Create(bank, m, d, device, options.Precision);
            output.WriteLine($"kNN: {q} query patches x {m} bank rows x {d} dims, {device.Describe()}, " +
                $"{knn.Precision.ToString().ToLowerInvariant()} bank");
            var lines = new List<string>();
            foreach (int k in new[] { 1, 9 })
            {
                var distances = new float[q * k];
                var indices = new int[q * k];
                var times = new List<double>();
                for (int i = 0; i <= options.Iterations; i++)
                {
                    cancel.ThrowIfCancellationRequested();
                    long t0 = Stopwatch.GetTimestamp();
                    knn.Search(queries, q, k, distances, indices);
                    if (i > 0) times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds); // the first run warms up
                }
                double ms = Percentile.Of(times, 0.5);
                output.WriteLine($"ours k={k}: {ms:F1} ms (median of {times.Count}), {2.0 * q * m * d / ms / 1e6:F1} effective GFLOP/s");
                lines.Add($"{k} {ms:R}");
                WriteRaw(Path.Combine(options.Export, $"ours-k{k}.i32"), MemoryMarshal.AsBytes(indices.AsSpan()));
            }
            File.WriteAllLines(Path.Combine(options.Export, "ours.txt"), lines);
        }
        finally
        {
            if (temporary is not null) Directory.Delete(temporary, recursive: true);
        }
    }

    private static void WriteRaw(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = File.Create(path);
        file.Write(bytes);
    }
}
