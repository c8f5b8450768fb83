using System.Numerics;
using System.Runtime.Intrinsics.X86;
using EdgePatchCore.Devices;
using EdgePatchCore.OnnxGraphs;
using EdgePatchCore.Search;
using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Coreset;

/// <summary>
/// The squared distance of many points to their nearest among many centres as one int8 GEMM (ONNX Runtime's MatMulInteger,
/// the centres a constant of the graph): ||p - c||^2 = ||p||^2 + ||c||^2 - 2 p.c with every term an exact integer (int8 values,
/// int32 sums), so the result equals the pruned greedy pass's (<see cref="GreedyCoreset.DistancesToCentres"/>) bit for bit.
/// MatMulInteger multiplies uint8 by int8, so the points go in shifted by 128: (p + 128).c = p.c + 128 sum(c).
///
/// Why: the pass streams every point's first block once per centre, bound by memory; the GEMM keeps blocks of points and
/// centres in cache and multiplies 32 pairs an instruction. Cross-fitting measures the points that lost their nearest row
/// against every kept row (about 250,000 points against 18,000 rows a fold for a 60-image tiled build: 1 s).
/// </summary>
internal static class CentreDistances
{
    private const string Graph = "int8-dots";
    /// <summary>Dot products per GEMM run: 2 Mi (8 MB) stay in the cache between the GEMM and the minimum over them.</summary>
    private const long DotsPerRun = 2L << 20;

    /// <summary>
    /// Whether the CPU's uint8 x int8 products accumulate exactly (VNNI, AVX10, ARM): x86 without them adds pairs of
    /// products into a saturating int16 (2 x 255 x 127 overflows it), and there only the pass is exact.
    /// </summary>
    public static bool IsExact => !X86Base.IsSupported || AvxVnni.IsSupported || Avx10v1.IsSupported;

    /// <summary>
    /// Per point (the rows <paramref name="subset"/> of <paramref name="points"/>, or all of them), the squared distance to its
    /// nearest row among <paramref name="centres"/> (rows of <paramref name="source"/>, same scale); int.MaxValue with no centres.
    /// </summary>
    public static int[] Nearest(QuantizedRows points, IReadOnlyList<int>? subset, QuantizedRows source, IReadOnlyList<int> centres,
        CancellationToken cancel)
    {
        int n = subset?.Count ?? points.Count, d = points.Dimensions, k = centres.Count;
        if (source.Dimensions != d) throw new ArgumentException("points and centres differ in dimensions");
        var result = new int[n];
        if (k == 0 || n == 0)
        {
            Array.Fill(result, int.MaxValue);
            return result;
        }
        // The centres transposed (d x k) for the GEMM; per centre ||c||^2 + 256 sum(c), so that d(p, c) = ||p||^2 + offset - 2 dot.
        var transposed = new sbyte[(long)d * k];
        var offsets = new int[k];
        for (int c = 0; c < k; c++)
        {
            var row = source.Row(centres[c]);
            int norm = 0, sum = 0;
            for (int t = 0; t < d; t++)
            {
                transposed[(long)t * k + c] = row[t];
                (norm, sum) = (norm + row[t] * row[t], sum + row[t]);
            }
            offsets[c] = norm + 256 * sum;
        }
        var device = new ExecutionDevice(DeviceKind.Cpu);
        using var session = new KnnSession(device, requireDevice: false);
        var binding = session.Binding(Graph, () => KnnGraphs.Int8Dots(OnnxBuilder.Int8Tensor("bank", [d, k], transposed)));
        int run = (int)Math.Clamp(DotsPerRun / k, 16, 4096);
        var queries = new byte[run * d];
        var dots = new int[run * k];
        using var queryTensor = OrtValue.CreateTensorValueFromMemory(queries, [run, d]);
        using var dotsTensor = OrtValue.CreateTensorValueFromMemory(dots, [run, k]);
        binding.BindInput("query", queryTensor);
        binding.BindOutput("dots", dotsTensor);
        for (int start = 0; start < n; start += run)
        {
            cancel.ThrowIfCancellationRequested();
            int q = Math.Min(run, n - start);
            for (int i = 0; i < q; i++)
            {
                var row = points.Row(subset is null ? start + i : subset[start + i]);
                for (int t = 0; t < d; t++) queries[i * d + t] = (byte)(row[t] + 128);
            }
            queries.AsSpan(q * d).Clear(); // a short last run: the rest are zero rows, their results unused
            session.Run(Graph, binding);
            Parallel.For(0, device.Threads, w =>
            {
                for (int i = q * w / device.Threads; i < q * (w + 1) / device.Threads; i++)
                {
                    var row = points.Row(subset is null ? start + i : subset[start + i]);
                    int norm = 0;
                    foreach (sbyte v in row) norm += v * v;
                    result[start + i] = norm + MinimumOffsetLessTwiceDot(offsets, dots.AsSpan(i * k, k));
                }
            });
        }
        return result;
    }

    /// <summary>min over c of offsets[c] - 2 dots[c].</summary>
    private static int MinimumOffsetLessTwiceDot(ReadOnlySpan<int> offsets, ReadOnlySpan<int> dots)
    {
        int lanes = Vector<int>.Count, c = 0;
        var best = new Vector<int>(int.MaxValue);
        for (; c <= offsets.Length - lanes; c += lanes)
            best = Vector.Min(best, new Vector<int>(offsets[c..]) - (new Vector<int>(dots[c..]) << 1));
        int min = int.MaxValue;
        for (int l = 0; l < lanes; l++) min = Math.Min(min, best[l]);
        for (; c < offsets.Length; c++) min = Math.Min(min, offsets[c] - 2 * dots[c]);
        return min;
    }
}
