using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Scoring;

/// <summary>
/// Step 1b of the bounded search: each patch's upper bound u_i >= s_i from the rows of its probed cells. The bank is kept
/// here a second time, in cell order and as int8 steps (rows x D bytes, a quarter of the float32 rows), and a cell's rows
/// are scanned with int8 dot products (<see cref="ProbeDots"/>: with AVX-VNNI one instruction does 32 multiply-adds, with
/// ARM's UDOT 16, against 8 and 4 for float32; the probe is bound by those). The int8 scan only picks each patch's
/// <see cref="Candidates"/> likeliest rows over all its probes; u_i is the smallest of their distances as the exact search
/// measures them (float32, from the bank's own <see cref="NearestNeighbourSearch.Distance"/>), so u_i is always the distance
/// to a real bank row and an upper bound of s_i whatever the rounding of the scan. Thread-safe: a scan writes only the probes it is given.
/// </summary>
internal sealed unsafe class CellProbe
{
    /// <summary>Rows per patch measured exactly after the int8 scan; the second guards against a rounding tie with the first.</summary>
    public const int Candidates = 2;

    private readonly byte[] _rows;      // bank rows in cell order, int8 steps 0..127, Rows x Stride (pinned)
    private readonly float[] _norms;    // ||m||^2 in int8 steps^2, cell order
    private readonly int[] _rowOfPosition;
    private readonly float _bankStep;
    private readonly ProbeKernel _kernel;
    private byte[] _queries = [];       // a call's queries in uint8 steps, n x Stride (pinned)
    private float _offsetScale;         // 1 / (2 s_q s_m) for the call's query step, in dot units: score = dot - norm x this

    public int Stride { get; }
    /// <summary>The largest query value (<see cref="ProbeDots.QueryLevels"/>).</summary>
    public float QueryLevels { get; }

    /// <param name="bank">rows x D, the float32 bank (non-negative patch features)</param>
    /// <param name="members">the bank rows in cell order (<see cref="Artifacts.BankCells.MemberRows"/>)</param>
    /// <param name="kernel">the dot-product kernel; by default the fastest this CPU runs</param>
    public CellProbe(float[] bank, int rows, int dimensions, int[] members, ProbeKernel? kernel = null)
    {
        _kernel = kernel ?? ProbeDots.Fastest();
        if (!ProbeDots.IsSupported(_kernel)) throw new PlatformNotSupportedException($"this CPU does not run the {_kernel} probe kernel");
        QueryLevels = ProbeDots.QueryLevels(_kernel);
        Stride = (dimensions + ProbeDots.Block - 1) / ProbeDots.Block * ProbeDots.Block;
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
                ProbeDots.Four(_kernel, q, rows + (long)p * Stride, Stride, dots);
                for (int r = 0; r < 4; r++)
                {
                    float offset = _norms[p + r] * _offsetScale;
                    int row = _rowOfPosition[p + r];
                    for (int i = 0; i < count; i++) Keep(best, bestRows, i, dots[r * 4 + i] - offset, row);
                }
            }
            for (; p + 1 < to; p += 2)
            {
                ProbeDots.Two(_kernel, q, rows + (long)p * Stride, rows + (long)(p + 1) * Stride, Stride, dots);
                for (int i = 0; i < count; i++)
                {
                    Keep(best, bestRows, i, dots[i] - _norms[p] * _offsetScale, _rowOfPosition[p]);
                    Keep(best, bestRows, i, dots[4 + i] - _norms[p + 1] * _offsetScale, _rowOfPosition[p + 1]);
                }
            }
            if (p < to)
            {
                ProbeDots.Two(_kernel, q, rows + (long)p * Stride, rows + (long)p * Stride, Stride, dots);
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
}
