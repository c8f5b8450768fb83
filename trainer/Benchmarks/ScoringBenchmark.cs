using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Synthetic;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;
using EdgePatchCore.Statistics;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>
/// Scoring latency of one artifact, per frame and split by stage (decode + resize, backbone + embedding,
/// kNN + score + map), at batch 1 and batch 8; then the kNN alone with each bank precision, in query
/// patches per second and effective GFLOP/s, beside the GEMM ceilings of this machine measured in the same
/// rounds (plain ONNX Runtime Gemm and MatMulInteger of the same shapes), so the figures say how close the
/// kNN is to the hardware.
/// </summary>
public sealed class ScoringBenchmark(TextWriter output)
{
    public void Run(ScoringBenchmarkOptions options, CancellationToken cancel)
    {
        var artifact = ArtifactFile.Read(options.Artifact);
        var content = artifact.Content;
        var device = new ExecutionDevice(options.Device);
        using var scorer = new PatchCoreScorer(content, device, options.Precision, options.Search, options.BackbonePrecision);
        var images = FrameFiles(options.Images, out var temporary, content.Tiling is not null);
        try
        {
            var loader = new ImageLoader();
            if (content.Tiling is not null)
            {
                var patches = new TiledScoringBenchmark(output).Run(artifact, scorer, device, images, options.Iterations, cancel);
                KnnVersusGemm(content, device, patches, scorer.Features.Dimensions, scorer.Precision, cancel);
                new SearchComparison(output).Run(artifact, device, options.Precision, options.BackbonePrecision, images, options.SearchRounds,
                    cancel);
                return;
            }
            int inputLength = scorer.Features.InputLength;
            output.WriteLine($"scoring benchmark: model {artifact.Id} ({content.Manifest.Product}), bank {content.Bank.Rows} x " +
                $"{content.Bank.Columns}, {content.Input}, {device.Describe()}, {scorer.PrecisionDescription}, " +
                $"{scorer.SearchDescription}, {images.Count} frame files, " +
                                 $"{options.Iterations} iterations per batch size");
            scorer.Score(new float[inputLength], 1); // warm-up
            output.WriteLine($"{"batch",5} {"stage",-24} {"median ms/frame",16} {"p95 ms/frame",13}");
            float[] lastPatches = [];
            foreach (int batch in options.Batches ?? [1, 8])
            {
                var buffer = new float[batch * inputLength];
                var decode = new List<double>();
                var backbone = new List<double>();
                var knn = new List<double>();
                var total = new List<double>();
                // Untimed rounds first: ONNX Runtime and the caches settle (our own code is compiled optimised
                // from its first call, see the project file).
                const int warmUp = 5;
                for (int it = -warmUp; it < options.Iterations; it++)
                {
                    cancel.ThrowIfCancellationRequested();
                    long t0 = Stopwatch.GetTimestamp();
                    for (int i = 0; i < batch; i++)
                        loader.LoadInput(images[((it + warmUp) * batch + i) % images.Count], content.Input, buffer.AsSpan(i * inputLength,
                            inputLength));
                    long t1 = Stopwatch.GetTimestamp();
                    if (lastPatches.Length != batch * scorer.Features.PatchesPerImage * scorer.Features.Dimensions)
                        lastPatches = new float[batch * scorer.Features.PatchesPerImage * scorer.Features.Dimensions];
                    scorer.Features.Extract(buffer, batch, lastPatches); // into a reused buffer, as the scorer does
                    long t2 = Stopwatch.GetTimestamp();
                    scorer.ScorePatches(lastPatches, batch);
                    long t3 = Stopwatch.GetTimestamp();
                    if (it < 0) continue;
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
            KnnVersusGemm(content, device, lastPatches, scorer.Features.Dimensions, scorer.Precision, cancel);
            new SearchComparison(output).Run(artifact, device, options.Precision, options.BackbonePrecision, images, options.SearchRounds,
                    cancel);
        }
        finally
        {
            if (temporary is not null) Directory.Delete(temporary, recursive: true);
        }
    }

    /// <summary>
    /// The kNN alone on the last batch's patches with each bank precision, beside the GEMM ceilings of this
    /// machine: a plain ONNX Runtime Gemm (float32) and MatMulInteger (int8) of the same shapes. All five run in
    /// turn in each round, and each figure is the median over the rounds, so a busy moment on a shared machine
    /// slows the kNN and its ceiling alike. Reduced precisions also say how often they found float32's nearest row.
    /// </summary>
    private void KnnVersusGemm(ModelContent content, ExecutionDevice device, float[] queries, int dims, BankPrecision chosen,
        CancellationToken cancel)
    {
        const int rounds = 5;
        int q = queries.Length / dims, m = content.Bank.Rows;
        double flop = 2.0 * q * m * dims;
        var bank = content.Bank.ToFloats();
        BankPrecision[] precisions = [BankPrecision.Float32, BankPrecision.Float16, BankPrecision.Int8];
        var searches = precisions.ToDictionary(p => p, p => BankSearches.Create(bank, m, dims, device, p));
        var distances = precisions.ToDictionary(p => p, _ => new float[q]);
        var indices = precisions.ToDictionary(p => p, _ => new int[q]);
        var times = precisions.ToDictionary(p => p, _ => new List<double>());
        using var gemm = new PlainGraph(FloatGemm(q, m, dims), device, [("a", queries, [q, dims]), ("b", bank, [m, dims])]);
        // As in the search: uint8 queries on the CPU, int8 on CUDA (its MatMulInteger takes int8 x int8 only).
        bool cuda = BankSearches.Int8QueriesSigned(device);
        using var integerGemm = new PlainGraph(IntegerGemm(q, m, dims, cuda), device,
            [("a", cuda ? new sbyte[queries.Length] : new byte[queries.Length], [q, dims])]);
        var gemmTimes = new List<double>();
        var integerTimes = new List<double>();
        try
        {
            for (int round = 0; round <= rounds; round++) // round 0 untimed
            {
                foreach (var precision in precisions)
                {
                    cancel.ThrowIfCancellationRequested();
                    long t0 = Stopwatch.GetTimestamp();
                    searches[precision].Search(queries, q, 1, distances[precision], indices[precision]);
                    if (round > 0) times[precision].Add(Ms(t0, Stopwatch.GetTimestamp()));
                }
                cancel.ThrowIfCancellationRequested();
                double g = gemm.Time(), i = integerGemm.Time();
                if (round == 0) continue;
                gemmTimes.Add(g);
                integerTimes.Add(i);
            }
        }
        finally
        {
            foreach (var search in searches.Values) search.Dispose();
        }

        var median = precisions.ToDictionary(p => p, p => Percentile.Of(times[p], 0.5));
        foreach (var precision in precisions.Skip(1))
        {
            int same = 0;
            double worst = 0;
            var exactDistances = distances[BankPrecision.Float32];
            for (int i = 0; i < q; i++)
            {
                if (indices[precision][i] == indices[BankPrecision.Float32][i]) same++;
                if (exactDistances[i] > 0) worst = Math.Max(worst, Math.Abs(distances[precision][i] - exactDistances[i]) / exactDistances[i]);
            }
            output.WriteLine($"kNN {Name(precision)}: {median[precision]:F1} ms, {flop / median[precision] / 1e6:F1} effective G(FL)OP/s, " +
                             $"{median[BankPrecision.Float32] / median[precision]:F2}x float32; same nearest row as float32 for {same} of {q} " +
                                 $"patches, distances within {worst:E1} relative");
        }

        double knnMs = median[chosen];
        double gemmMs = Percentile.Of(gemmTimes, 0.5), intMs = Percentile.Of(integerTimes, 0.5);
        output.WriteLine($"kNN alone (k = 1): {q} query patches x {m} bank rows x {dims} dims in {knnMs:F1} ms ({Name(chosen)}): " +
                         $"{q / knnMs * 1000:F0} query patches/s, {flop / knnMs / 1e6:F1} effective GFLOP/s");
        output.WriteLine($"GEMM ceiling (plain ONNX Runtime Gemm, same shapes): {gemmMs:F1} ms, {flop / gemmMs / 1e6:F1} GFLOP/s; " +
                         $"kNN at {gemmMs / median[BankPrecision.Float32]:P0} of it (float32)");
        output.WriteLine($"int8 GEMM ceiling (plain ONNX Runtime MatMulInteger, same shapes, constant bank): {intMs:F1} ms, " +
            $"{flop / intMs / 1e6:F1} GOP/s; int8 kNN at {intMs / median[BankPrecision.Int8]:P0} of it");
        output.WriteLine($"(medians of {rounds} rounds, each running the three searches and both ceilings in turn)");
    }

    private static string Name(BankPrecision p) => p.ToString().ToLowerInvariant();

    private static ModelProto FloatGemm(int q, int m, int dims)
    {
        var g = new GraphProto { Name = "gemm" };
        g.Input.Add(FloatTensor("a", q, dims));
        g.Input.Add(FloatTensor("b", m, dims));
        g.Node.Add(Node("Gemm", ["a", "b"], ["c"], Attr("transB", 1L)));
        g.Output.Add(FloatTensor("c", q, m));
        return Model(g);
    }

    /// <summary>The bank is a constant here as in the int8 search on the CPU (packed once for the GEMM, not per run).</summary>
    private static ModelProto IntegerGemm(int q, int m, int dims, bool signedQueries)
    {
        var g = new GraphProto { Name = "gemm_int8" };
        g.Input.Add(Tensor("a", signedQueries ? TensorProto.Types.DataType.Int8 : TensorProto.Types.DataType.Uint8, q, dims));
        g.Initializer.Add(Int8Tensor("b", [dims, m], new sbyte[(long)dims * m]));
        g.Node.Add(Node("MatMulInteger", ["a", "b"], ["c"]));
        g.Output.Add(Tensor("c", TensorProto.Types.DataType.Int32, q, m));
        return Model(g);
    }

    /// <summary>One plain graph with its inputs, for timing single runs.</summary>
    private sealed class PlainGraph : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly RunOptions _runOptions = new();
        private readonly string[] _names;
        private readonly OrtValue[] _values;
        private readonly string[] _outputs;

        public PlainGraph(ModelProto graph, ExecutionDevice device, (string Name, Array Data, long[] Shape)[] inputs)
        {
            using var sessionOptions = device.CreateSessionOptions();
            _session = new InferenceSession(graph.ToByteArray(), sessionOptions);
            _names = inputs.Select(i => i.Name).ToArray();
            _values = inputs.Select(i => i.Data.GetType() == typeof(float[]) ? OrtValue.CreateTensorValueFromMemory((float[])i.Data, i.Shape)
                : i.Data.GetType() == typeof(byte[]) ? OrtValue.CreateTensorValueFromMemory((byte[])i.Data, i.Shape)
                : OrtValue.CreateTensorValueFromMemory((sbyte[])i.Data, i.Shape)).ToArray(); // exact types: sbyte[] passes for byte[] in 'is'
            _outputs = _session.OutputNames.ToArray();
        }

        /// <summary>Milliseconds of one run.</summary>
        public double Time()
        {
            long t0 = Stopwatch.GetTimestamp();
            using (_session.Run(_runOptions, _names, _values, _outputs)) { }
            return Ms(t0, Stopwatch.GetTimestamp());
        }

        public void Dispose()
        {
            foreach (var v in _values) v.Dispose();
            _runOptions.Dispose();
            _session.Dispose();
        }
    }

    /// <param name="megapixel">without a folder: 4 synthetic sheet frames of 1600 x 1200 (for a tiled model) instead of 8 gasket frames</param>
    internal static List<string> FrameFiles(string? folder, out string? temporary, bool megapixel = false)
    {
        temporary = null;
        if (folder is null)
        {
            temporary = Path.Combine(Path.GetTempPath(), "edgepatchcore-bench-" + Guid.NewGuid().ToString("N")[..8]);
            if (megapixel) new SheetGenerator(new SheetOptions { Seed = 7, TrainCount = 4, TestGoodCount = 0, TestPerDefect = 0 }).Write(temporary);
            else new GasketGenerator(new GasketOptions { Seed = 7, TrainCount = 8, TestGoodCount = 0, TestPerDefect = 0 }).Write(temporary);
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
