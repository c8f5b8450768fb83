using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgePatchCore.Search;

namespace EdgePatchCore.Scoring;

/// <summary>
/// Step 1b of the bounded search: each patch's upper bound u_i >= s_i from the rows of its probed cells. The bank is kept
/// here a second time, in cell order and as int8 steps (rows x D bytes, a quarter of the float32 rows), and a cell's rows
/// are scanned with int8 dot products: with AVX-VNNI one instruction does 32 multiply-adds, against 8 for float32, and
/// the probe was bound by those. The int8 scan only picks each patch's <see cref="Candidates"/> likeliest rows over all
/// its probes; u_i is the smallest of their distances as the exact search measures them (float32, from the bank's own
/// <see cref="NearestNeighbourSearch.Distance"/>), so u_i is always the distance to a real bank row and an upper bound of
/// s_i whatever the rounding of the scan. Thread-safe: a scan writes only the probes it is given.
/// </summary>
internal sealed unsafe class CellProbe
{
    /// <summary>Rows per patch measured exactly after the int8 scan; the second guards against a rounding tie with the first.</summary>
    public const int Candidates = 2;
    private const int Block = 32; // bytes per SIMD step; rows and queries are padded to a multiple of it with zeros

    private readonly byte[] _rows;      // bank rows in cell order, int8 steps 0..127, Rows x Stride (pinned)
    private readonly float[] _norms;    // ||m||^2 in int8 steps^2, cell order
    private readonly int[] _rowOfPosition;
    private readonly float _bankStep;
    private readonly bool _vnni;
    private byte[] _queries = [];       // a call's queries in uint8 steps, n x Stride (pinned)
    private float _offsetScale;         // 1 / (2 s_q s_m) for the call's query step, in dot units: score = dot - norm x this

    public int Stride { get; }
    /// <summary>The largest query value: 255 where the dot product accumulates in int32 (VNNI), 127 where pairs of products
    /// are added into a saturating int16 (AVX2's vpmaddubsw: 2 x 127 x 127 fits, 2 x 255 x 127 does not).</summary>
    public float QueryLevels { get; }

    /// <param name="bank">rows x D, the float32 bank (non-negative patch features)</param>
    /// <param name="members">the bank rows in cell order (<see cref="Artifacts.BankCells.MemberRows"/>)</param>
    public CellProbe(float[] bank, int rows, int dimensions, int[] members, bool allowVnni = true)
    {
        _vnni = allowVnni && AvxVnni.IsSupported;
        QueryLevels = _vnni ? 255f : 127f;
        Stride = (dimensions + Block - 1) / Block * Block;
        float max = Math.Max(0f, TensorPrimitives.Max(bank.AsSpan(0, rows * dimensions)));
        _bankStep = max > 0 ? max / 127f : 1f;
        _rows = GC.AllocateArray<byte>(rows * Stride, pinned: true);
        _norms = new float[rows];
        _rowOfPosition = members;
        var scaled = new float[dimensions];
        for (int p = 0; p < rows; p++)
        {
            TensorPrimitives.Multiply(bank.AsSpan(members[p] * dimensions, dimensions), 1f / _bankStep, scaled);
            var row = _rows.AsSpan(p * Stride, dimensions);
            for (int j = 0; j < dimensions; j++) row[j] = (byte)Math.Clamp(MathF.Round(scaled[j]), 0f, 127f);
            _norms[p] = Norm(row);
        }
    }

    private static float Norm(ReadOnlySpan<byte> row)
    {
        long sum = 0;
        foreach (byte v in row) sum += v * v;
        return sum;
    }

    /// <summary>Quantises a call's n queries (n x <paramref name="dimensions"/>) with one step: the largest value /
    /// <see cref="QueryLevels"/>.</summary>
    public void SetQueries(ReadOnlySpan<float> queries, int n, int dimensions)
    {
        if (_queries.Length < n * Stride) _queries = GC.AllocateArray<byte>(n * Stride, pinned: true);
        float max = TensorPrimitives.Max(queries.Slice(0, n * dimensions));
        float step = max > 0 && float.IsFinite(max) ? max / QueryLevels : 1f;
        for (int i = 0; i < n; i++)
            Int8Kernels.Quantize(queries.Slice(i * dimensions, dimensions), 1f / step, _queries.AsSpan(i * Stride, dimensions));
        // ||q - m||^2 = ||q||^2 - 2 s_q s_m (dot - ||m||^2_steps s_m / (2 s_q)): per query, the largest dot - ||m||^2 x s_m / (2 s_q) is
        // the nearest row.
        _offsetScale = _bankStep / (2f * step);
    }

    /// <summary>
    /// Scans the rows at cell-order positions [<paramref name="from"/>, <paramref name="to"/>) for up to four queries (indices into
    /// the call's queries): the best <see cref="Candidates"/> of the i-th, as (score, bank row) pairs, best first, into
    /// <paramref name="best"/> and <paramref name="bestRows"/> at [i x Candidates] (scores of -infinity and rows of -1 where the
    /// range holds fewer rows). Scores compare across calls of one <see cref="SetQueries"/>: larger is nearer.
    /// </summary>
    public void Scan(ReadOnlySpan<int> queries, int from, int to, Span<float> best, Span<int> bestRows)
    {
        int count = queries.Length;
        best.Slice(0, count * Candidates).Fill(float.NegativeInfinity);
        bestRows.Slice(0, count * Candidates).Fill(-1);
        var q = stackalloc byte*[4];
        fixed (byte* rows = _rows, all = _queries)
        {
            for (int i = 0; i < 4; i++) q[i] = all + (long)queries[Math.Min(i, count - 1)] * Stride; // a short block repeats its last query
            int* dots = stackalloc int[16];
            int p = from;
            for (; p + 3 < to; p += 4)
            {
                Dots4(q, rows + (long)p * Stride, dots);
                for (int r = 0; r < 4; r++)
                {
                    float offset = _norms[p + r] * _offsetScale;
                    int row = _rowOfPosition[p + r];
                    for (int i = 0; i < count; i++) Keep(best, bestRows, i, dots[r * 4 + i] - offset, row);
                }
            }
            for (; p + 1 < to; p += 2)
            {
                Dots(q, rows + (long)p * Stride, rows + (long)(p + 1) * Stride, dots);
                for (int i = 0; i < count; i++)
                {
                    Keep(best, bestRows, i, dots[i] - _norms[p] * _offsetScale, _rowOfPosition[p]);
                    Keep(best, bestRows, i, dots[4 + i] - _norms[p + 1] * _offsetScale, _rowOfPosition[p + 1]);
                }
            }
            if (p < to)
            {
                Dots(q, rows + (long)p * Stride, rows + (long)p * Stride, dots);
                for (int i = 0; i < count; i++) Keep(best, bestRows, i, dots[i] - _norms[p] * _offsetScale, _rowOfPosition[p]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Keep(Span<float> best, Span<int> rows, int query, float score, int row)
    {
        int at = query * Candidates;
        if (score <= best[at + 1]) return;
        if (score > best[at]) (best[at + 1], rows[at + 1], best[at], rows[at]) = (best[at], rows[at], score, row);
        else (best[at + 1], rows[at + 1]) = (score, row);
    }

    /// <summary>The int32 dot products of four queries with two rows (Stride bytes each): dots[r x 4 + i].</summary>
    private void Dots(byte** q, byte* row0, byte* row1, int* dots)
    {
        if (_vnni) DotsVnni(q, row0, row1, dots);
        else if (Avx2.IsSupported) DotsAvx2(q, row0, row1, dots);
        else
            for (int i = 0; i < 4; i++)
            {
                int a = 0, b = 0;
                for (int k = 0; k < Stride; k++) (a, b) = (a + q[i][k] * row0[k], b + q[i][k] * row1[k]);
                (dots[i], dots[4 + i]) = (a, b);
            }
    }

    /// <summary>The int32 dot products of four queries with four consecutive rows (Stride bytes each): dots[r x 4 + i].</summary>
    private void Dots4(byte** q, byte* rows, int* dots)
    {
        if (_vnni) DotsVnni4(q, rows, dots);
        else
        {
            Dots(q, rows, rows + Stride, dots);
            Dots(q, rows + 2 * Stride, rows + 3 * Stride, dots + 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DotsVnni4(byte** q, byte* rows, int* dots)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default, d0 = default, d1 = default, d2 = default, d3 = default;
        byte* q0p = q[0], q1p = q[1], q2p = q[2], q3p = q[3];
        long stride = Stride;
        for (int k = 0; k < Stride; k += Block)
        {
            var q0 = Vector256.Load(q0p + k);
            var q1 = Vector256.Load(q1p + k);
            var q2 = Vector256.Load(q2p + k);
            var q3 = Vector256.Load(q3p + k);
            var r = Vector256.Load((sbyte*)rows + k);
            (a0, a1, a2, a3) = (AvxVnni.MultiplyWideningAndAdd(a0, q0, r), AvxVnni.MultiplyWideningAndAdd(a1, q1, r),
                AvxVnni.MultiplyWideningAndAdd(a2, q2, r), AvxVnni.MultiplyWideningAndAdd(a3, q3, r));
            r = Vector256.Load((sbyte*)rows + stride + k);
            (b0, b1, b2, b3) = (AvxVnni.MultiplyWideningAndAdd(b0, q0, r), AvxVnni.MultiplyWideningAndAdd(b1, q1, r),
                AvxVnni.MultiplyWideningAndAdd(b2, q2, r), AvxVnni.MultiplyWideningAndAdd(b3, q3, r));
            r = Vector256.Load((sbyte*)rows + 2 * stride + k);
            (c0, c1, c2, c3) = (AvxVnni.MultiplyWideningAndAdd(c0, q0, r), AvxVnni.MultiplyWideningAndAdd(c1, q1, r),
                AvxVnni.MultiplyWideningAndAdd(c2, q2, r), AvxVnni.MultiplyWideningAndAdd(c3, q3, r));
            r = Vector256.Load((sbyte*)rows + 3 * stride + k);
            (d0, d1, d2, d3) = (AvxVnni.MultiplyWideningAndAdd(d0, q0, r), AvxVnni.MultiplyWideningAndAdd(d1, q1, r),
                AvxVnni.MultiplyWideningAndAdd(d2, q2, r), AvxVnni.MultiplyWideningAndAdd(d3, q3, r));
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
        Store(c0, c1, c2, c3, dots + 8);
        Store(d0, d1, d2, d3, dots + 12);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DotsVnni(byte** q, byte* row0, byte* row1, int* dots)
    {
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        for (int k = 0; k < Stride; k += Block)
        {
            var r0 = Vector256.Load((sbyte*)row0 + k);
            var r1 = Vector256.Load((sbyte*)row1 + k);
            var q0 = Vector256.Load(q[0] + k);
            var q1 = Vector256.Load(q[1] + k);
            var q2 = Vector256.Load(q[2] + k);
            var q3 = Vector256.Load(q[3] + k);
            (a0, b0) = (AvxVnni.MultiplyWideningAndAdd(a0, q0, r0), AvxVnni.MultiplyWideningAndAdd(b0, q0, r1));
            (a1, b1) = (AvxVnni.MultiplyWideningAndAdd(a1, q1, r0), AvxVnni.MultiplyWideningAndAdd(b1, q1, r1));
            (a2, b2) = (AvxVnni.MultiplyWideningAndAdd(a2, q2, r0), AvxVnni.MultiplyWideningAndAdd(b2, q2, r1));
            (a3, b3) = (AvxVnni.MultiplyWideningAndAdd(a3, q3, r0), AvxVnni.MultiplyWideningAndAdd(b3, q3, r1));
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DotsAvx2(byte** q, byte* row0, byte* row1, int* dots)
    {
        var ones = Vector256.Create((short)1);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        for (int k = 0; k < Stride; k += Block)
        {
            var r0 = Vector256.Load((sbyte*)row0 + k);
            var r1 = Vector256.Load((sbyte*)row1 + k);
            for (int i = 0; i < 4; i++)
            {
                var qi = Vector256.Load(q[i] + k);
                var x = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qi, r0), ones);
                var y = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(qi, r1), ones);
                switch (i)
                {
                    case 0: (a0, b0) = (a0 + x, b0 + y); break;
                    case 1: (a1, b1) = (a1 + x, b1 + y); break;
                    case 2: (a2, b2) = (a2 + x, b2 + y); break;
                    default: (a3, b3) = (a3 + x, b3 + y); break;
                }
            }
        }
        Store(a0, a1, a2, a3, dots);
        Store(b0, b1, b2, b3, dots + 4);
    }

    /// <summary>The four horizontal sums of a0..a3 into dots[0..3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3, int* dots)
    {
        var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a0, a1), Avx2.HorizontalAdd(a2, a3)); // lanes: a0 a1 a2 a3 | a0 a1 a2 a3 (halves)
        (h.GetLower() + h.GetUpper()).Store(dots);
    }
}
