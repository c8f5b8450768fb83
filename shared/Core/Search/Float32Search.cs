using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Search;

/// <summary>
/// Exact search: squared distances by one float32 GEMM (-2 q.m + ||m||^2), nearest by ArgMin (k = 1) or TopK,
/// finished with ||q||^2 here (<see cref="KnnGraphs.Nearest"/>, <see cref="KnnGraphs.TopK"/>).
/// </summary>
internal sealed class Float32Search : NearestNeighbourSearch
{
    // Scores of Q x M per run: 48 Mi values (192 MB). A frame (784 patches) against a 10% MTD bank (53,704 rows)
    // then runs as one GEMM: each run re-packs the bank for the GEMM (a pass over all of it), so fewer, larger
    // runs are faster (two runs of 392 cost about 10% more than one of 784).
    public const long DistanceBudget = 48L << 20;

    private readonly float[] _bank;
    private readonly RunBuffers _buffers;
    private readonly float[] _queries;

    public override BankPrecision Precision => BankPrecision.Float32;

    /// <param name="bank">Rows x Dimensions, kept (not copied) for <see cref="Distance"/>.</param>
    public Float32Search(float[] bank, int rows, int dimensions, KnnSession session)
        : base(bank, rows, dimensions, session, DistanceBudget)
    {
        _bank = bank;
        ComputeNorms(bank);
        Ort.Upload("bank", bank, [rows, dimensions]);
        Ort.Upload("bank_norms", Norms, [rows]);
        _queries = GC.AllocateArray<float>(LargestRun * dimensions, pinned: true);
        _buffers = new RunBuffers(LargestRun, RunBuffers.DefaultWidth(rows), withPartial: true, QueryTensor);
    }

    private protected override void SearchRun(ReadOnlySpan<float> queries, int q, int k, Span<float> distances, Span<int> indices)
    {
        queries.CopyTo(_queries);
        var run = _buffers.For(q, k);
        string graph = k == 1 ? "nearest" : "topk";
        var binding = Ort.Binding(graph, k == 1 ? KnnGraphs.Nearest : KnnGraphs.TopK);
        Ort.SetK(k);
        binding.BindInput("query", run.Query);
        binding.BindOutput("index", run.Index);
        binding.BindOutput("partial", run.Partial!);
        Ort.Run(graph, binding);
        // d = sqrt(||q||^2 + (||m||^2 - 2 q.m)): the graph gives the part that depends on m.
        for (int r = 0; r < q; r++)
        {
            var query = queries.Slice(r * Dimensions, Dimensions);
            float qn = TensorPrimitives.Dot(query, query);
            for (int j = 0; j < k; j++)
            {
                distances[r * k + j] = SquaredToDistance(_buffers.Partial[r * k + j] + qn);
                indices[r * k + j] = (int)_buffers.Index[r * k + j];
            }
        }
    }

    private OrtValue QueryTensor(int q) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _queries.AsMemory(0, q * Dimensions), [q, Dimensions]);

    public override float Distance(ReadOnlySpan<float> query, int bankIndex) =>
        SquaredToDistance(TensorPrimitives.Dot(query, query) - 2f * TensorPrimitives.Dot(query, _bank.AsSpan(bankIndex * Dimensions, Dimensions))
            + Norms[bankIndex]);


    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // the sessions and bindings first, then the tensors they were bound to
        if (disposing) _buffers.Dispose();
    }
}
