using EdgePatchCore.Features;
using EdgePatchCore.OnnxGraphs;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using static EdgePatchCore.OnnxGraphs.OnnxBuilder;

namespace EdgePatchCore.Scoring;

/// <summary>
/// Exact k-nearest-neighbour search of query rows against a bank of rows, as an ONNX Runtime graph:
/// squared distances as one GEMM (||q||^2 - 2 q.m + ||m||^2) followed by TopK. The bank and its
/// norms are handed to ONNX Runtime once, as tensors over pinned memory, and reused for every query.
/// </summary>
public sealed class NearestNeighbourSearch : IDisposable
{
    private const long DistanceBudget = 32L << 20; // floats of Q x M scratch per run (128 MB)
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtValue _bank;
    private readonly OrtValue _bankNorms;
    private readonly float[] _bankData;
    public int Rows { get; }
    public int Dimensions { get; }

    public NearestNeighbourSearch(float[] bank, int rows, int dimensions, ExecutionDevice device)
    {
        if (bank.Length != (long)rows * dimensions) throw new ArgumentException("bank size does not match rows x dimensions");
        Rows = rows;
        Dimensions = dimensions;
        _bankData = bank;
        var norms = new float[rows];
        for (int i = 0; i < rows; i++) norms[i] = Dot(bank.AsSpan(i * dimensions, dimensions), bank.AsSpan(i * dimensions, dimensions));
        using var options = device.CreateSessionOptions();
        _session = new InferenceSession(BuildGraph().ToByteArray(), options);
        _bank = OrtValue.CreateTensorValueFromMemory(bank, [rows, dimensions]);
        _bankNorms = OrtValue.CreateTensorValueFromMemory(norms, [rows]);
    }

    public ReadOnlySpan<float> BankRow(int index) => _bankData.AsSpan(index * Dimensions, Dimensions);

    /// <summary>
    /// For each of <paramref name="count"/> query rows, the <paramref name="k"/> nearest bank rows, nearest first:
    /// Euclidean distances (not squared) and bank indices, both count x k.
    /// </summary>
    public void Search(ReadOnlySpan<float> queries, int count, int k, Span<float> distances, Span<int> indices)
    {
        if (k < 1 || k > Rows) throw new ArgumentOutOfRangeException(nameof(k), $"k must be in 1..{Rows}");
        // Equal chunks: a short last chunk (784 = 624 + 160 at a 10% MTD bank) runs the GEMM far below its speed.
        int largest = (int)Math.Clamp(DistanceBudget / Rows, 16, 4096);
        int chunks = (count + largest - 1) / largest;
        int chunk = Math.Max(1, (count + chunks - 1) / chunks);
        var kTensorData = new long[] { k };
        using var kTensor = OrtValue.CreateTensorValueFromMemory(kTensorData, [1]);
        var buffer = new float[Math.Min(chunk, count) * Dimensions];
        for (int start = 0; start < count; start += chunk)
        {
            int q = Math.Min(chunk, count - start);
            var rows = queries.Slice(start * Dimensions, q * Dimensions);
            rows.CopyTo(buffer);
            using var query = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                buffer.AsMemory(0, q * Dimensions), [q, Dimensions]);
            using var results = _session.Run(_runOptions, ["query", "bank", "bank_norms", "k"],
                [query, _bank, _bankNorms, kTensor], ["partial", "index"]);
            var partial = results[0].GetTensorDataAsSpan<float>();
            var index = results[1].GetTensorDataAsSpan<long>();
            for (int r = 0; r < q; r++)
            {
                float qn = Dot(rows.Slice(r * Dimensions, Dimensions), rows.Slice(r * Dimensions, Dimensions));
                for (int j = 0; j < k; j++)
                {
                    int o = (start + r) * k + j;
                    distances[o] = MathF.Sqrt(Math.Max(0f, partial[r * k + j] + qn)); // clamp rounding below zero
                    indices[o] = (int)index[r * k + j];
                }
            }
        }
    }

    /// <summary>Distance between a query row and one bank row, computed the same way as the graph does.</summary>
    public float Distance(ReadOnlySpan<float> query, int bankIndex)
    {
        var m = BankRow(bankIndex);
        return MathF.Sqrt(Math.Max(0f, Dot(query, query) - 2f * Dot(query, m) + Dot(m, m)));
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        System.Numerics.Tensors.TensorPrimitives.Dot(a, b);

    private static ModelProto BuildGraph()
    {
        var g = new GraphProto { Name = "knn" };
        g.Input.Add(FloatTensor("query", "q", "d"));
        g.Input.Add(FloatTensor("bank", "m", "d"));
        g.Input.Add(FloatTensor("bank_norms", "m"));
        g.Input.Add(Tensor("k", TensorProto.Types.DataType.Int64, 1));
        // -2 q.m^T + ||m||^2; ||q||^2 is constant per row, so TopK can rank without it.
        g.Node.Add(Node("Gemm", ["query", "bank", "bank_norms"], ["scores"],
            Attr("alpha", -2f), Attr("beta", 1f), Attr("transB", 1L)));
        g.Node.Add(Node("TopK", ["scores", "k"], ["partial", "index"], Attr("axis", 1L), Attr("largest", 0L), Attr("sorted", 1L)));
        g.Output.Add(FloatTensor("partial", "q", "k"));
        g.Output.Add(Tensor("index", TensorProto.Types.DataType.Int64, "q", "k"));
        return Model(g);
    }

    public void Dispose()
    {
        _bank.Dispose();
        _bankNorms.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
