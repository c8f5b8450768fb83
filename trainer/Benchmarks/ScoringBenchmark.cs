using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Features;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Synthetic;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Trainer.Benchmarks;

public sealed record ScoringBenchmarkOptions(string Artifact, string? Images, DeviceKind Device, int Iterations);

/// <summary>
/// Scoring latency of one artifact, per frame and split by stage (decode + resize, backbone + embedding,
/// kNN + score + map), at batch 1 and batch 8; then the kNN alone in query patches per second and
/// effective GFLOP/s, beside the GEMM ceiling of this machine measured in the same run (a plain
/// ONNX Runtime Gemm of the same shapes), so the figure says how close the kNN is to the hardware.
/// </summary>
public sealed class ScoringBenchmark(TextWriter output)
{
    public void Run(ScoringBenchmarkOptions options, CancellationToken cancel)
    {
        var artifact = ArtifactFile.Read(options.Artifact);
        var content = artifact.Content;
        var device = new ExecutionDevice(options.Device);
        using var scorer = new PatchCoreScorer(content, device);
        var images = FrameFiles(options.Images, out var temporary);
        try
        {
            var loader = new ImageLoader();
            int inputLength = scorer.Features.InputLength;
            output.WriteLine($"scoring benchmark: model {artifact.Id} ({content.Manifest.Product}), bank {content.Bank.Rows} x {content.Bank.Columns}, " +
                             $"{content.Input}, {device.Describe()}, {images.Count} frame files, {options.Iterations} iterations per batch size");
            scorer.Score(new float[inputLength], 1); // warm-up
            output.WriteLine($"{"batch",5} {"stage",-24} {"median ms/frame",16} {"p95 ms/frame",13}");
            float[] lastPatches = [];
            foreach (int batch in new[] { 1, 8 })
            {
                var buffer = new float[batch * inputLength];
                var decode = new List<double>();
                var backbone = new List<double>();
                var knn = new List<double>();
                var total = new List<double>();
                for (int it = 0; it < options.Iterations; it++)
                {
                    cancel.ThrowIfCancellationRequested();
                    long t0 = Stopwatch.GetTimestamp();
                    for (int i = 0; i < batch; i++)
                        loader.LoadInput(images[(it * batch + i) % images.Count], content.Input, buffer.AsSpan(i * inputLength, inputLength));
                    long t1 = Stopwatch.GetTimestamp();
                    lastPatches = scorer.Features.Extract(buffer, batch);
                    long t2 = Stopwatch.GetTimestamp();
                    scorer.ScorePatches(lastPatches, batch);
                    long t3 = Stopwatch.GetTimestamp();
                    decode.Add(Ms(t0, t1) / batch);
                    backbone.Add(Ms(t1, t2) / batch);
                    knn.Add(Ms(t2, t3) / batch);
                    total.Add(Ms(t0, t3) / batch);
                }
                Row(batch, "decode + resize", decode);
                Row(batch, "backbone + embedding", backbone);
                Row(batch, "kNN + score + map", knn);
                Row(batch, "total", total);
                output.WriteLine($"{batch,5} {"frames per second",-24} {1000 / Percentile.Of(total, 0.5),16:F2}");
            }
            KnnVersusGemm(content, device, lastPatches, scorer.Features.Dimensions, cancel);
        }
        finally
        {
            if (temporary is not null) Directory.Delete(temporary, recursive: true);
        }
    }

    /// <summary>The kNN alone on the last batch's patches, and a plain Gemm of the same shapes for the ceiling.</summary>
    private void KnnVersusGemm(ModelContent content, ExecutionDevice device, float[] queries, int dims, CancellationToken cancel)
    {
        int q = queries.Length / dims, m = content.Bank.Rows;
        double flop = 2.0 * q * m * dims;
        var bank = content.Bank.ToFloats();
        using var knn = new NearestNeighbourSearch(bank, m, dims, device);
        var distances = new float[q];
        var indices = new int[q];
        var knnTimes = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            cancel.ThrowIfCancellationRequested();
            long t0 = Stopwatch.GetTimestamp();
            knn.Search(queries, q, 1, distances, indices);
            if (i > 0) knnTimes.Add(Ms(t0, Stopwatch.GetTimestamp()));
        }

        var g = new GraphProto { Name = "gemm" };
        g.Input.Add(FloatTensor("a", "q", dims));
        g.Input.Add(FloatTensor("b", m, dims));
        g.Node.Add(Node("Gemm", ["a", "b"], ["c"], Attr("transB", 1L)));
        g.Output.Add(FloatTensor("c", "q", m));
        using var sessionOptions = device.CreateSessionOptions();
        using var session = new InferenceSession(Model(g).ToByteArray(), sessionOptions);
        using var a = OrtValue.CreateTensorValueFromMemory(queries, [q, dims]);
        using var b = OrtValue.CreateTensorValueFromMemory(bank, [m, dims]);
        using var runOptions = new RunOptions();
        var gemmTimes = new List<double>();
        for (int i = 0; i < 4; i++)
        {
            cancel.ThrowIfCancellationRequested();
            long t0 = Stopwatch.GetTimestamp();
            using (var result = session.Run(runOptions, ["a", "b"], [a, b], ["c"])) { }
            if (i > 0) gemmTimes.Add(Ms(t0, Stopwatch.GetTimestamp()));
        }
        double knnMs = Percentile.Of(knnTimes, 0.5), gemmMs = Percentile.Of(gemmTimes, 0.5);
        double knnGflops = flop / knnMs / 1e6, gemmGflops = flop / gemmMs / 1e6;
        output.WriteLine($"kNN alone (k = 1): {q} query patches x {m} bank rows x {dims} dims in {knnMs:F1} ms: " +
                         $"{q / knnMs * 1000:F0} query patches/s, {knnGflops:F1} effective GFLOP/s");
        output.WriteLine($"GEMM ceiling (plain ONNX Runtime Gemm, same shapes): {gemmMs:F1} ms, {gemmGflops:F1} GFLOP/s; " +
                         $"kNN at {knnGflops / gemmGflops:P0} of it");
    }

    internal static List<string> FrameFiles(string? folder, out string? temporary)
    {
        temporary = null;
        if (folder is null)
        {
            temporary = Path.Combine(Path.GetTempPath(), "edgepatchcore-bench-" + Guid.NewGuid().ToString("N")[..8]);
            new GasketGenerator(new GasketOptions { Seed = 7, TrainCount = 8, TestGoodCount = 0, TestPerDefect = 0 }).Write(temporary);
            folder = temporary;
        }
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(ImageLoader.HasImageExtension)
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new DatasetException($"no images in {folder}");
        return files;
    }

    private void Row(int batch, string stage, List<double> values) =>
        output.WriteLine($"{batch,5} {stage,-24} {Percentile.Of(values, 0.5),16:F1} {Percentile.Of(values, 0.95),13:F1}");

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

}
