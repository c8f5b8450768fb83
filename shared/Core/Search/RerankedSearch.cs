using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace EdgePatchCore.Search;

/// <summary>
/// The approximate paths (float16, int8): a GEMM in the low precision proposes each query's nearest few rows
/// (2k, at least <see cref="NearestNeighbourSearch.MinimumCandidates"/>), and those are ranked here by their exact
/// distance. On MTD features the exact nearest row is among 4 int8 candidates for every patch tested.
/// </summary>
internal abstract class RerankedSearch : NearestNeighbourSearch
{
    private float[] _best = [];
    private int[] _bestIndex = [];

    /// <summary>The run's queries in the units <see cref="DistanceSquared"/> works in, q x Dimensions (pinned).</summary>
    private protected float[] Queries { get; }
    private protected RunBuffers Buffers { get; }

    private protected RerankedSearch(float[] bank, int rows, int dimensions, KnnSession session, long valuesPerRun)
        : base(bank, rows, dimensions, session, valuesPerRun)
    {
        Queries = GC.AllocateArray<float>(LargestRun * dimensions, pinned: true);
        Buffers = new RunBuffers(LargestRun, RunBuffers.DefaultWidth(rows), withPartial: false, QueryTensor);
    }

    /// <summary>
    /// Fills <see cref="Queries"/> from <paramref name="queries"/> (q x Dimensions) and <see cref="RunBuffers.Index"/>
    /// of <see cref="Buffers"/> with <paramref name="width"/> candidate rows per query (q x width).
    /// </summary>
    private protected abstract void FindCandidates(ReadOnlySpan<float> queries, int q, int width);

    /// <summary>The GEMM's input tensor over the path's own query buffer for q queries (made once per run shape, not per run).</summary>
    private protected abstract OrtValue QueryTensor(int q);

    /// <summary>||q||^2 - 2 q.m + ||m||^2 in the search's units; <paramref name="row"/> is scratch of <see cref="RowScratch"/> values.</summary>
    private protected abstract float DistanceSquared(ReadOnlySpan<float> query, float queryNorm, int m, Span<float> row);

    /// <summary>Scratch a bank row needs to be widened to float32 (0 when the float32 rows are kept).</summary>
    private protected virtual int RowScratch => 0;

    /// <summary>One unit of the search's distances in the bank's units.</summary>
    private protected virtual float Unit => 1f;

    private protected override void SearchRun(ReadOnlySpan<float> queries, int q, int k, Span<float> distances, Span<int> indices)
    {
        int width = Math.Min(Rows, Math.Max(MinimumCandidates, 2 * k));
        FindCandidates(queries, q, width);
        Rerank(q, k, width, distances, indices);
    }

    private protected override void LikeliestRun(ReadOnlySpan<float> queries, int q, int k, Span<int> indices)
    {
        FindCandidates(queries, q, k);
        long[] candidates = Buffers.Index;
        for (int i = 0; i < q * k; i++) indices[i] = (int)candidates[i];
    }

    /// <summary>Exact distances of each query's candidates; the k nearest, nearest first.</summary>
    private void Rerank(int q, int k, int width, Span<float> distances, Span<int> indices)
    {
        if (_best.Length < q * k) (_best, _bestIndex) = (new float[q * k], new int[q * k]);
        float[] best = _best;
        int[] bestIndex = _bestIndex;
        long[] candidates = Buffers.Index;
        void RerankRows(int from, int to)
        {
            Span<float> row = stackalloc float[RowScratch];
            for (int r = from; r < to; r++)
            {
                var query = Queries.AsSpan(r * Dimensions, Dimensions);
                float qn = TensorPrimitives.Dot(query, query);
                var d = best.AsSpan(r * k, k);
                var ix = bestIndex.AsSpan(r * k, k);
                d.Fill(float.PositiveInfinity);
                ix.Fill(-1);
                for (int c = 0; c < width; c++)
                {
                    int m = (int)candidates[r * width + c];
                    float d2 = DistanceSquared(query, qn, m, row);
                    if (d2 > d[k - 1] || (d2 == d[k - 1] && m > ix[k - 1])) continue;
                    int at = k - 1; // insertion: by distance, then by index, as TopK orders ties
                    while (at > 0 && (d[at - 1] > d2 || (d[at - 1] == d2 && ix[at - 1] > m))) { d[at] = d[at - 1]; ix[at] = ix[at - 1]; at--; }
                    d[at] = d2;
                    ix[at] = m;
                }
            }
        }
        // A frame's worth (784 x 8 candidates x 1024 dims) takes about 2 ms on one core; waking pool threads for
        // it sometimes cost more than that.
        if ((long)q * width * Dimensions < 16_000_000) RerankRows(0, q);
        else
            Parallel.For(0, Ort.Threads, new ParallelOptions { MaxDegreeOfParallelism = Ort.Threads },
                t => RerankRows(q * t / Ort.Threads, q * (t + 1) / Ort.Threads));
        for (int i = 0; i < q * k; i++)
        {
            distances[i] = Unit * SquaredToDistance(best[i]);
            indices[i] = bestIndex[i];
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // the sessions and bindings first, then the tensors they were bound to
        if (disposing) Buffers.Dispose();
    }
}
