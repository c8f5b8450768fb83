using EdgePatchCore.OnnxGraphs;
using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Search;

/// <summary>
/// Int8 on the CPU, 2.5-3x the float32 search's speed with VNNI (a quarter of the bank's bytes streamed): ONNX
/// Runtime computes the uint8 x int8 dot products (<see cref="KnnGraphs.Int8Dots"/>; the bank a constant of the
/// graph, packed for the GEMM once at load rather than on every run), and each query's best candidates are picked
/// here in two SIMD passes (<see cref="Int8Kernels.SelectLargest"/>): ONNX Runtime's Cast + Sub + TopK over the
/// same matrix took about as long as the GEMM itself.
/// </summary>
internal sealed class Int8HostSearch : Int8Search
{
    // The int32 dot products are written by the GEMM and read back by the selection: 8 Mi of them (32 MB) per run
    // stay in the cache in between (batch 8 at a 1% MTD bank: 138 ms against 162 ms with the float32 budget).
    private const long DotsBudget = 8L << 20;
    private const string Graph = "int8-dots";
    private readonly Dictionary<int, OrtValue> _dotsTensors = [];
    private int[] _dots = []; // q x Rows int32 dot products of the current run (pinned)

    /// <param name="queryLevels">255 where the CPU's int8 dot product accumulates in int32, 127 where it saturates (see BankSearches).</param>
    /// <param name="constantBankLimit">The largest bank (bytes) made a constant of the graph; a larger one is bound as an input.</param>
    public Int8HostSearch(float[] bank, int rows, int dimensions, KnnSession session, float queryLevels, long constantBankLimit)
        : base(bank, rows, dimensions, session, DotsBudget, queryLevels)
    {
        var transposed = TransposedBank();
        if (transposed.Length <= constantBankLimit)
            Ort.Binding(Graph, () => KnnGraphs.Int8Dots(OnnxBuilder.Int8Tensor("bank", [dimensions, rows], transposed)));
        else
            Ort.Upload("bank", transposed, [dimensions, rows]);
    }

    private protected override void FindCandidates(ReadOnlySpan<float> queries, int q, int width)
    {
        Quantize(queries);
        if (_dots.Length < (long)q * Rows)
        {
            foreach (var old in _dotsTensors.Values) old.Dispose(); // tensors over the old buffer
            _dotsTensors.Clear();
            _dots = GC.AllocateArray<int>(q * Rows, pinned: true);
        }
        if (!_dotsTensors.TryGetValue(q, out var dots))
            _dotsTensors[q] = dots = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _dots.AsMemory(0, q * Rows), [q, Rows]);
        var run = Buffers.For(q, width);
        var binding = Ort.Binding(Graph, () => KnnGraphs.Int8Dots());
        binding.BindInput("query", run.Query);
        binding.BindOutput("dots", dots);
        Ort.Run(Graph, binding);
        SelectCandidates(q, width);
    }

    private protected override OrtValue QueryTensor(int q) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, QueryBytes.AsMemory(0, q * Dimensions), [q, Dimensions]);

    /// <summary>Per query row, the <paramref name="width"/> bank rows with the largest dot - offset, into the run's indices.</summary>
    private void SelectCandidates(int q, int width)
    {
        long[] index = Buffers.Index;
        // The pass reads the whole q x m matrix (17 MB for a frame against a 1% MTD bank) once: on two threads
        // each core streams half of it.
        int threads = (long)q * Rows < 1_000_000 ? 1 : Math.Min(Ort.Threads, q);
        if (threads == 1) Int8Kernels.SelectLargest(_dots.AsSpan(0, q * Rows), Offsets, q, width, index.AsSpan(0, q * width));
        else
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                int from = q * t / threads, to = q * (t + 1) / threads;
                Int8Kernels.SelectLargest(_dots.AsSpan(from * Rows, (to - from) * Rows), Offsets, to - from, width, index.AsSpan(from * width,
                    (to - from) * width));
            });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // the sessions and bindings first, then the tensors they were bound to
        if (disposing)
            foreach (var dots in _dotsTensors.Values) dots.Dispose();
    }
}
