using System.Numerics.Tensors;

namespace EdgePatchCore.Search;

/// <summary>
/// What the two int8 paths share: the bank quantised to int8 with one scale (patch features are non-negative:
/// averages of ReLU outputs), the queries quantised with one scale per run, and the exact re-rank against the
/// float32 rows, which stay in host memory for it. A bank row m ranks by dot_int(q, m) - ||m||^2 / (2 s_q s_m):
/// the largest is the nearest.
/// </summary>
internal abstract class Int8Search : RerankedSearch
{
    private readonly float[] _bank;
    private readonly float _bankStep;   // value of one int8 step of the bank
    private readonly float _queryLevels; // largest quantised value of a query: 255, or 127 (see BankSearches)

    /// <summary>The run's queries quantised, q x Dimensions (pinned): uint8, or int8 holding 0..127.</summary>
    private protected byte[] QueryBytes { get; }
    /// <summary>Per bank row ||m||^2 / (2 s_q s_m) for the current run's query scale (Rows).</summary>
    private protected float[] Offsets { get; }

    public override BankPrecision Precision => BankPrecision.Int8;

    private protected Int8Search(float[] bank, int rows, int dimensions, KnnSession session, long valuesPerRun, float queryLevels)
        : base(bank, rows, dimensions, session, valuesPerRun)
    {
        if (TensorPrimitives.Min(bank) < 0)
            throw new ArgumentException("int8 search needs non-negative patch features (this bank has negative values); use float32 or float16");
        _bank = bank;
        _queryLevels = queryLevels;
        ComputeNorms(bank);
        float max = TensorPrimitives.Max(bank);
        _bankStep = max > 0 ? max / 127f : 1f;
        Offsets = new float[rows];
        QueryBytes = GC.AllocateArray<byte>(LargestRun * dimensions, pinned: true);
    }

    /// <summary>The bank as int8 steps, transposed to Dimensions x Rows (MatMulInteger multiplies by a d x m matrix).</summary>
    private protected sbyte[] TransposedBank()
    {
        var transposed = new sbyte[_bank.Length];
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < Dimensions; j++)
                transposed[(long)j * Rows + i] = (sbyte)MathF.Round(_bank[(long)i * Dimensions + j] / _bankStep);
        return transposed;
    }

    /// <summary>Fills <see cref="Queries"/>, <see cref="QueryBytes"/> and <see cref="Offsets"/> for a run of q x Dimensions queries.</summary>
    private protected void Quantize(ReadOnlySpan<float> queries)
    {
        queries.CopyTo(Queries);
        float max = TensorPrimitives.Max(queries);
        float step = max > 0 && float.IsFinite(max) ? max / _queryLevels : 1f; // s_q
        Int8Kernels.Quantize(queries, 1f / step, QueryBytes);
        TensorPrimitives.Multiply(Norms, 1f / (2f * step * _bankStep), Offsets);
    }

    private protected override float DistanceSquared(ReadOnlySpan<float> query, float queryNorm, int m, Span<float> row) =>
        queryNorm - 2f * TensorPrimitives.Dot(query, _bank.AsSpan(m * Dimensions, Dimensions)) + Norms[m];

    public override float Distance(ReadOnlySpan<float> query, int bankIndex) =>
        SquaredToDistance(DistanceSquared(query, TensorPrimitives.Dot(query, query), bankIndex, default));

}
