using System.Numerics;
using System.Runtime.InteropServices;
using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Coreset;

/// <summary>The chosen rows, in selection order, and the coverage radius they achieve.</summary>
public sealed record CoresetResult(int[] Indices, float CoverageRadius, long DistanceEvaluations, long SkippedEvaluations);

/// <summary>
/// Exact greedy k-center selection (Algorithm 1 of the PatchCore paper; minimax facility location):
/// start from a seeded random point, then repeatedly add the point farthest from the chosen set.
/// Memory is O(N): each point keeps only its distance to, and the index of, its nearest centre.
///
/// Pruning: a new centre c cannot move point p when d(c, a(p)) >= 2 mind(p), where a(p) is p's
/// current centre (triangle inequality). That test costs one distance per existing centre per step
/// plus a scalar compare per point, and skips most of the 128-d distance evaluations. The result
/// is identical to <see cref="SelectPlain"/>: skipped points provably keep their values.
/// </summary>
public static class GreedyCoreset
{
    /// <summary>Relative safety margin on the pruning test so float rounding can never skip a real update.</summary>
    private const float PruneMargin = 4f * 1.001f;

    public static CoresetResult Select(float[] points, int count, int dimensions, int size, int seed,
                                       IReporter? reporter = null, CancellationToken cancel = default)
        => Run(points, count, dimensions, size, seed, prune: true, reporter, cancel);

    /// <summary>The plain algorithm: one full distance pass over all points per step.</summary>
    public static CoresetResult SelectPlain(float[] points, int count, int dimensions, int size, int seed,
                                            IReporter? reporter = null, CancellationToken cancel = default)
        => Run(points, count, dimensions, size, seed, prune: false, reporter, cancel);

    public static int StartIndex(int count, int seed) => new Random(seed).Next(count);

    private static CoresetResult Run(float[] points, int n, int dim, int size, int seed, bool prune,
                                     IReporter? reporter, CancellationToken cancel)
    {
        if (n <= 0) throw new ArgumentException("no points to select from");
        if (points.Length < (long)n * dim) throw new ArgumentException("points array shorter than count x dimensions");
        size = Math.Clamp(size, 1, n);
        reporter ??= NullReporter.Instance;

        var minDist = new float[n];          // squared distance to the nearest centre
        var assigned = new int[n];           // which centre (selection step) that is
        var centres = new float[(long)size * dim]; // chosen rows, contiguous, for the centre-centre pass
        var centreDist = new float[size];     // squared distance from the new centre to each earlier centre
        Array.Fill(minDist, float.PositiveInfinity);
        Array.Fill(assigned, -1);
        var indices = new int[size];

        int workers = Math.Max(1, Environment.ProcessorCount);
        int chunk = Math.Max(4096, (n + workers * 4 - 1) / (workers * 4));
        int chunks = (n + chunk - 1) / chunk;
        var chunkMax = new float[chunks];
        var chunkArg = new int[chunks];
        var chunkSkipped = new long[chunks];
        long evaluations = 0, skipped = 0;

        int next = StartIndex(n, seed);
        var progressEvery = Math.Max(1, size / 200);
        for (int step = 0; step < size; step++)
        {
            cancel.ThrowIfCancellationRequested();
            indices[step] = next;
            var c = points.AsSpan(next * dim, dim);
            c.CopyTo(centres.AsSpan(step * dim, dim));
            if (prune && step > 0)
            {
                int t = step;
                Parallel.For(0, workers, w =>
                {
                    int lo = (int)((long)t * w / workers), hi = (int)((long)t * (w + 1) / workers);
                    var cc = centres.AsSpan(t * dim, dim);
                    for (int j = lo; j < hi; j++) centreDist[j] = SquaredDistance(cc, centres.AsSpan(j * dim, dim));
                });
            }

            int s = step;
            Parallel.For(0, chunks, k =>
            {
                int lo = k * chunk, hi = Math.Min(n, lo + chunk);
                var centre = points.AsSpan(next * dim, dim);
                float best = -1f;
                int arg = -1;
                long skip = 0;
                for (int p = lo; p < hi; p++)
                {
                    float m = minDist[p];
                    int a = assigned[p];
                    if (prune && a >= 0 && centreDist[a] >= PruneMargin * m) skip++;
                    else
                    {
                        float d = SquaredDistance(centre, points.AsSpan(p * dim, dim));
                        if (d < m) { m = d; minDist[p] = d; assigned[p] = s; }
                    }
                    if (m > best) { best = m; arg = p; }
                }
                chunkMax[k] = best;
                chunkArg[k] = arg;
                chunkSkipped[k] = skip;
            });

            // Deterministic argmax: largest distance, ties to the lowest index (chunks are in index order).
            float bestAll = -1f;
            next = -1;
            long skippedStep = 0;
            for (int k = 0; k < chunks; k++)
            {
                if (chunkMax[k] > bestAll) { bestAll = chunkMax[k]; next = chunkArg[k]; }
                skippedStep += chunkSkipped[k];
            }
            skipped += skippedStep;
            evaluations += n - skippedStep;
            if (step % progressEvery == 0 || step == size - 1)
                reporter.Progress("coreset", step + 1, size, $"radius {MathF.Sqrt(bestAll):G4}");
        }
        float radius = 0;
        for (int p = 0; p < n; p++) radius = Math.Max(radius, minDist[p]);
        return new CoresetResult(indices, MathF.Sqrt(radius), evaluations, skipped);
    }

    /// <summary>Squared Euclidean distance, SIMD; the single definition both variants use.</summary>
    public static float SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        var acc = Vector<float>.Zero;
        for (int i = 0; i < va.Length; i++)
        {
            var diff = va[i] - vb[i];
            acc += diff * diff;
        }
        float sum = Vector.Sum(acc);
        for (int i = va.Length * Vector<float>.Count; i < a.Length; i++)
        {
            float diff = a[i] - b[i];
            sum += diff * diff;
        }
        return sum;
    }
}
