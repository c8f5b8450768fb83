using System.Numerics.Tensors;

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
    private float[] _likeliestDistances = [];
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
        if (distances.Length < (long)count * k) throw new ArgumentException("query, distance or index span too short");
        InRuns(queries, count, k, indices, distances);
    }

    /// <summary>
    /// For each of <paramref name="count"/> query rows (count x Dimensions), <paramref name="k"/> likely nearest bank rows
    /// (count x k indices, in no set order): the approximate paths' first stage without its exact re-rank, the exact k nearest
    /// where a path has no cheaper stage. For choosing where to look (the bounded search's cells), never for a distance.
    /// </summary>
    public void Likeliest(ReadOnlySpan<float> queries, int count, int k, Span<int> indices) => InRuns(queries, count, k, indices, default);

    /// <summary>The argument checks and the equal runs of <see cref="Search"/> (with distances) and <see cref="Likeliest"/> (without).</summary>
    private void InRuns(ReadOnlySpan<float> queries, int count, int k, Span<int> indices, Span<float> distances)
    {
        if (k < 1 || k > Rows) throw new ArgumentOutOfRangeException(nameof(k), $"k must be in 1..{Rows}");
        if (queries.Length < (long)count * Dimensions || indices.Length < (long)count * k)
            throw new ArgumentException("query, distance or index span too short");
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (count == 0) return;
        bool exact = !distances.IsEmpty;
        lock (_gate)
        {
            // Equal runs: a short last run (784 = 624 + 160 at a 10% MTD bank) runs the GEMM far below its speed.
            int runs = (count + _chunk - 1) / _chunk;
            int run = Math.Max(1, (count + runs - 1) / runs);
            for (int start = 0; start < count; start += run)
            {
                int q = Math.Min(run, count - start);
                var part = queries.Slice(start * Dimensions, q * Dimensions);
                if (exact) SearchRun(part, q, k, distances.Slice(start * k, q * k), indices.Slice(start * k, q * k));
                else LikeliestRun(part, q, k, indices.Slice(start * k, q * k));
            }
        }
    }

    /// <summary>One run: <paramref name="queries"/> is q x Dimensions, <paramref name="distances"/> and <paramref name="indices"/> q x k.</summary>
    private protected abstract void SearchRun(ReadOnlySpan<float> queries, int q, int k, Span<float> distances, Span<int> indices);

    /// <summary>One run of <see cref="Likeliest"/>: <paramref name="queries"/> is q x Dimensions, <paramref name="indices"/> q x k.</summary>
    private protected virtual void LikeliestRun(ReadOnlySpan<float> queries, int q, int k, Span<int> indices)
    {
        if (_likeliestDistances.Length < q * k) _likeliestDistances = new float[q * k];
        SearchRun(queries, q, k, _likeliestDistances.AsSpan(0, q * k), indices);
    }

    /// <summary>Distance between a query row and one bank row, computed the way the search reports it. Thread-safe.</summary>
    public abstract float Distance(ReadOnlySpan<float> query, int bankIndex);

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
