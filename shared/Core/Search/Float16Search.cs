using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Search;

/// <summary>
/// For GPUs: the bank in half precision (half its device memory, the GEMM on tensor cores); candidates by a float16
/// GEMM and TopK (<see cref="KnnGraphs.Float16Candidates"/>), re-ranked against the half rows widened to float32.
/// Rows and queries are divided by a power of two first, so that the rows' squared norms fit half's range.
/// (On an x86 CPU ONNX Runtime has no half Gemm and converts the bank to float32 on every run: no faster, and
/// more memory, than float32.)
/// </summary>
internal sealed class Float16Search : RerankedSearch
{
    private const string Graph = "float16";
    private readonly Float16[] _bankHalves; // Rows x Dimensions: rows / _halfScale
    private readonly Float16[] _queryHalves;
    private readonly float _halfScale;

    public override BankPrecision Precision => BankPrecision.Float16;

    public Float16Search(float[] bank, int rows, int dimensions, KnnSession session)
        : base(bank, rows, dimensions, session, Float32Search.DistanceBudget)
    {
        float largest = Math.Abs(TensorPrimitives.MaxMagnitude(bank));
        _halfScale = largest > 0 ? MathF.Pow(2, MathF.Ceiling(MathF.Log2(largest))) : 1f;
        var scaled = new float[Math.Min(bank.Length, 1 << 20)];
        _bankHalves = new Float16[bank.Length];
        for (long start = 0; start < bank.Length; start += scaled.Length)
        {
            int n = (int)Math.Min(scaled.Length, bank.Length - start);
            TensorPrimitives.Multiply(bank.AsSpan((int)start, n), 1f / _halfScale, scaled.AsSpan(0, n));
            TensorPrimitives.ConvertToHalf(scaled.AsSpan(0, n), Halves(_bankHalves.AsSpan((int)start, n)));
        }
        var row = new float[dimensions];
        for (int i = 0; i < rows; i++) Norms[i] = TensorPrimitives.Dot(WidenRow(i, row), row);
        var halfNorms = new Float16[rows];
        TensorPrimitives.ConvertToHalf(Norms, Halves(halfNorms));
        Ort.Upload("bank", _bankHalves, [rows, dimensions]);
        Ort.Upload("bank_norms", halfNorms, [rows]);
        _queryHalves = GC.AllocateArray<Float16>(LargestRun * dimensions, pinned: true);
    }

    private protected override int RowScratch => Dimensions;
    private protected override float Unit => _halfScale;

    private protected override void FindCandidates(ReadOnlySpan<float> queries, int q, int width)
    {
        int n = q * Dimensions;
        TensorPrimitives.Multiply(queries, 1f / _halfScale, Queries.AsSpan(0, n));
        TensorPrimitives.ConvertToHalf(Queries.AsSpan(0, n), Halves(_queryHalves.AsSpan(0, n)));
        var run = Buffers.For(q, width);
        var binding = Ort.Binding(Graph, KnnGraphs.Float16Candidates);
        Ort.SetK(width);
        binding.BindInput("query", run.Query);
        binding.BindOutput("index", run.Index);
        Ort.Run(Graph, binding);
    }

    private protected override OrtValue QueryTensor(int q) =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _queryHalves.AsMemory(0, q * Dimensions), [q, Dimensions]);

    private protected override float DistanceSquared(ReadOnlySpan<float> query, float queryNorm, int m, Span<float> row) =>
        queryNorm - 2f * TensorPrimitives.Dot(query, WidenRow(m, row)) + Norms[m];

    public override float Distance(ReadOnlySpan<float> query, int bankIndex)
    {
        Span<float> scaled = Dimensions <= 4096 ? stackalloc float[Dimensions] : new float[Dimensions];
        Span<float> row = Dimensions <= 4096 ? stackalloc float[Dimensions] : new float[Dimensions];
        TensorPrimitives.Multiply(query, 1f / _halfScale, scaled);
        return _halfScale * SquaredToDistance(DistanceSquared(scaled, TensorPrimitives.Dot(scaled, scaled), bankIndex, row));
    }

    private Span<float> WidenRow(int m, Span<float> row)
    {
        TensorPrimitives.ConvertToSingle(Halves(_bankHalves.AsSpan(m * Dimensions, Dimensions)), row);
        return row;
    }

    private static Span<Half> Halves(Span<Float16> values) => MemoryMarshal.Cast<Float16, Half>(values);
}
