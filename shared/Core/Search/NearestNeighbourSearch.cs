using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace EdgePatchCore.Search;

/// <summary>
/// k-nearest-neighbour search of query rows against a memory bank, run by ONNX Runtime on the CPU or CUDA.
/// One subclass per precision and device path (<see cref="Float32Search"/>, <see cref="Float16Search"/>,
/// <see cref="Int8HostSearch"/>, <see cref="Int8DeviceSearch"/>), chosen in one place, <see cref="BankSearches.Create"/>.
/// The bank is placed on the execution device once, at construction, and stays bound to the sessions; per run
/// only the queries go in and k indices (and distances) per query come out, into buffers allocated once.
/// This base checks the arguments, serialises the searches (they share those buffers) and cuts the queries
/// into equal runs that fit the path's memory budget.
/// </summary>
public abstract class NearestNeighbourSearch : IDisposable
{
    /// <summary>The fewest candidates the approximate paths (float16, int8) re-rank exactly per query.</summary>
    public const int MinimumCandidates = 8;

    private readonly Lock _gate = new();
    private readonly int _chunk;
    private protected readonly KnnSession Ort;
    /// <summary>||m||^2 of each bank row, in the units the distances are computed in (Rows).</summary>
    private protected readonly float[] Norms;

    public int Rows { get; }
    public int Dimensions { get; }
    public abstract BankPrecision Precision { get; }

    /// <param name="bank">The bank, Rows x Dimensions, row-major, as stored in the artifact.</param>
    /// <param name="valuesPerRun">How many per-query-per-row values (distances or dot products) one run may hold:
    /// the largest run is valuesPerRun / rows queries (16..4096).</param>
    private protected NearestNeighbourSearch(float[] bank, int rows, int dimensions, KnnSession session, long valuesPerRun)
    {
        if (bank.Length != (long)rows * dimensions) throw new ArgumentException("bank size does not match rows x dimensions");
        if (rows < 1 || dimensions < 1) throw new ArgumentException("the bank is empty");
        Rows = rows;
        Dimensions = dimensions;
        Ort = session;
        Norms = new float[rows];
        _chunk = (int)Math.Clamp(valuesPerRun / rows, 16, 4096);
    }

    /// <summary>The most queries one run takes.</summary>
    private protected int LargestRun => _chunk;

    /// <summary>
    /// For each of <paramref name="count"/> query rows (count x Dimensions), the <paramref name="k"/> nearest bank rows,
    /// nearest first: Euclidean distances (not squared) and bank indices, both count x k.
    /// </summary>
    public void Search(ReadOnlySpan<float> queries, int count, int k, Span<float> distances, Span<int> indices)
    {
        if (k < 1 || k > Rows) throw new ArgumentOutOfRangeException(nameof(k), $"k must be in 1..{Rows}");
        if (queries.Length < (long)count * Dimensions || distances.Length < (long)count * k || indices.Length < (long)count * k)
            throw new ArgumentException("query, distance or index span too short");
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (count == 0) return;
        lock (_gate)
        {
            // Equal runs: a short last run (784 = 624 + 160 at a 10% MTD bank) runs the GEMM far below its speed.
            int runs = (count + _chunk - 1) / _chunk;
            int run = Math.Max(1, (count + runs - 1) / runs);
            for (int start = 0; start < count; start += run)
            {
                int q = Math.Min(run, count - start);
                SearchRun(queries.Slice(start * Dimensions, q * Dimensions), q, k, distances.Slice(start * k, q * k), indices.Slice(start * k,
                    q * k));
            }
        }
    }

    /// <summary>One run: <paramref name="queries"/> is q x Dimensions, <paramref name="distances"/> and <paramref name="indices"/> q x k.</summary>
    private protected abstract void SearchRun(ReadOnlySpan<float> queries, int q, int k, Span<float> distances, Span<int> indices);

    /// <summary>Distance between a query row and one bank row, computed the way the search reports it.</summary>
    public abstract float Distance(ReadOnlySpan<float> query, int bankIndex);

    /// <summary>
    /// <see cref="Distance"/> of <paramref name="count"/> (1..4) query rows (Dimensions each, at <paramref name="queries"/>) to each
    /// of <paramref name="bankRows"/>: distances[i * bankRows.Length + j]. The paths that keep float32 rows in host memory read
    /// each bank row once for all the queries (the bounded search's probe is bound by those reads). Thread-safe: it reads the bank only.
    /// </summary>
    internal virtual unsafe void Distances(ReadOnlySpan<nint> queries, int count, ReadOnlySpan<int> bankRows, Span<float> distances)
    {
        for (int i = 0; i < count; i++)
        {
            var query = new ReadOnlySpan<float>((float*)queries[i], Dimensions);
            for (int j = 0; j < bankRows.Length; j++) distances[i * bankRows.Length + j] = Distance(query, bankRows[j]);
        }
    }

    /// <summary>The form of <see cref="Distances"/> over float32 rows kept in host memory: ||q||^2 - 2 q.m + ||m||^2, four dots a row
    /// read.</summary>
    private protected unsafe void Distances(ReadOnlySpan<nint> queries, int count, ReadOnlySpan<int> bankRows, Span<float> distances, float[] bank)
    {
        var q = stackalloc float*[4];
        Span<float> norms = stackalloc float[4];
        for (int i = 0; i < 4; i++)
        {
            q[i] = (float*)queries[Math.Min(i, count - 1)]; // a short block repeats its last query; those results are not written
            var row = new ReadOnlySpan<float>(q[i], Dimensions);
            norms[i] = TensorPrimitives.Dot(row, row);
        }
        int n = bankRows.Length;
        fixed (float* rows = bank)
        {
            for (int j = 0; j < n; j++)
            {
                int m = bankRows[j];
                FourDots(q[0], q[1], q[2], q[3], rows + (long)m * Dimensions, Dimensions, out float d0, out float d1, out float d2, out float d3);
                float mn = Norms[m];
                distances[j] = SquaredToDistance(norms[0] - 2f * d0 + mn);
                if (count > 1) distances[n + j] = SquaredToDistance(norms[1] - 2f * d1 + mn);
                if (count > 2) distances[2 * n + j] = SquaredToDistance(norms[2] - 2f * d2 + mn);
                if (count > 3) distances[3 * n + j] = SquaredToDistance(norms[3] - 2f * d3 + mn);
            }
        }
    }

    /// <summary>The dot products of one row (d floats) with four query rows: one load of the row per four multiply-adds.</summary>
    private static unsafe void FourDots(float* q0, float* q1, float* q2, float* q3, float* row, int d,
        out float d0, out float d1, out float d2, out float d3)
    {
        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int w = Vector<float>.Count, t = 0;
        for (; t <= d - w; t += w)
        {
            var m = Unsafe.ReadUnaligned<Vector<float>>(row + t);
            a0 = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(q0 + t), m, a0);
            a1 = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(q1 + t), m, a1);
            a2 = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(q2 + t), m, a2);
            a3 = Vector.FusedMultiplyAdd(Unsafe.ReadUnaligned<Vector<float>>(q3 + t), m, a3);
        }
        (d0, d1, d2, d3) = (Vector.Sum(a0), Vector.Sum(a1), Vector.Sum(a2), Vector.Sum(a3));
        for (; t < d; t++) (d0, d1, d2, d3) = (d0 + q0[t] * row[t], d1 + q1[t] * row[t], d2 + q2[t] * row[t], d3 + q3[t] * row[t]);
    }

    /// <summary>The GEMM form ||q||^2 - 2 q.m + ||m||^2 can go slightly below zero by rounding: clamped before the root.</summary>
    private protected static float SquaredToDistance(float d2) => MathF.Sqrt(Math.Max(0f, d2));

    /// <summary>||m||^2 of every row of <paramref name="bank"/> (Rows x Dimensions) into <see cref="Norms"/>.</summary>
    private protected void ComputeNorms(float[] bank)
    {
        for (int i = 0; i < Rows; i++)
        {
            var row = bank.AsSpan(i * Dimensions, Dimensions);
            Norms[i] = TensorPrimitives.Dot(row, row);
        }
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Ort.Dispose();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
