using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Coreset;

/// <summary>The chosen rows, in selection order, the coverage radius they achieve, and how much work pruning saved.</summary>
public sealed record CoresetResult(int[] Indices, float CoverageRadius, long DistanceEvaluations, long SkippedEvaluations)
{
    public double PrunedShare => (double)SkippedEvaluations / Math.Max(1, SkippedEvaluations + DistanceEvaluations);
}

/// <summary>
/// Exact greedy k-center selection (Algorithm 1 of the PatchCore paper; minimax facility location):
/// start from a seeded random point, then repeatedly add the point farthest from the chosen set.
/// Memory is O(N): per point its squared distance to, and the index of, its nearest centre; the
/// points themselves are float16 rows (see <see cref="HalfRows"/>).
///
/// Pruning (exact; the result equals <see cref="SelectPlain"/>):
/// <list type="bullet">
/// <item>per point: a new centre c cannot move p when d(c, a(p)) >= 2 mind(p), a(p) being p's centre;</item>
/// <item>per cluster, to avoid most centre-to-centre distances: with R_j the largest mind of cluster j
/// when it formed (points only ever leave a cluster), and the pivot bound d(c, j) >= |d(c, z) - d(j, z)|
/// for the first centre z, cluster j cannot change when |d(c, z) - d(j, z)| >= 2 R_j.</item>
/// </list>
/// Both tests carry a 0.1% margin so float rounding can never skip a real update.
/// </summary>
public static class GreedyCoreset
{
    private const float Margin = 1.001f;

    public static CoresetResult Select(Half[] points, int count, int dimensions, int size, int seed,
                                       IReporter? reporter = null, CancellationToken cancel = default)
        => new Run(points, count, dimensions, size, prune: true).Execute(seed, reporter ?? NullReporter.Instance, cancel);

    /// <summary>The plain algorithm: one full distance pass over all points per step.</summary>
    public static CoresetResult SelectPlain(Half[] points, int count, int dimensions, int size, int seed,
                                            IReporter? reporter = null, CancellationToken cancel = default)
        => new Run(points, count, dimensions, size, prune: false).Execute(seed, reporter ?? NullReporter.Instance, cancel);

    public static int StartIndex(int count, int seed) => new Random(seed).Next(count);

    private sealed class Run
    {
        private readonly Half[] _points;
        private readonly int _n, _dim, _size;
        private readonly bool _prune;
        private readonly float[] _minDist;      // squared distance to the nearest centre
        private readonly int[] _assigned;       // selection step of that centre
        private readonly Half[] _centres;       // chosen rows, contiguous
        private readonly float[] _centreDist;   // this step: squared d(c, j), or +inf when the cluster is provably unaffected
        private readonly float[] _pivotDist;    // d(j, first centre)
        private readonly float[] _clusterRadius; // R_j: largest distance of a point that joined cluster j
        private readonly float[] _centre;       // the new centre as float32
        private readonly int _workers, _chunk, _chunks;
        private readonly float[] _chunkMax, _chunkJoin;
        private readonly int[] _chunkArg;
        private readonly long[] _chunkSkipped;

        public Run(Half[] points, int n, int dim, int size, bool prune)
        {
            if (n <= 0) throw new ArgumentException("no points to select from");
            if (points.LongLength < (long)n * dim) throw new ArgumentException("points array shorter than count x dimensions");
            _points = points;
            _n = n;
            _dim = dim;
            _size = Math.Clamp(size, 1, n);
            _prune = prune;
            _minDist = new float[n];
            _assigned = new int[n];
            Array.Fill(_minDist, float.PositiveInfinity);
            Array.Fill(_assigned, -1);
            _centres = new Half[(long)_size * dim];
            _centreDist = new float[_size];
            _pivotDist = new float[_size];
            _clusterRadius = new float[_size];
            _centre = new float[dim];
            _workers = Math.Max(1, Environment.ProcessorCount);
            _chunk = Math.Max(4096, (n + _workers * 4 - 1) / (_workers * 4));
            _chunks = (n + _chunk - 1) / _chunk;
            _chunkMax = new float[_chunks];
            _chunkJoin = new float[_chunks];
            _chunkArg = new int[_chunks];
            _chunkSkipped = new long[_chunks];
        }

        private ReadOnlySpan<Half> Row(int p) => _points.AsSpan((int)((long)p * _dim), _dim);
        private ReadOnlySpan<Half> CentreRow(int j) => _centres.AsSpan(j * _dim, _dim);

        public CoresetResult Execute(int seed, IReporter reporter, CancellationToken cancel)
        {
            var indices = new int[_size];
            long evaluations = 0, skipped = 0;
            int next = StartIndex(_n, seed);
            int progressEvery = Math.Max(1, _size / 200);
            float radius2 = 0;
            for (int step = 0; step < _size; step++)
            {
                cancel.ThrowIfCancellationRequested();
                indices[step] = next;
                Row(next).CopyTo(_centres.AsSpan(step * _dim, _dim));
                HalfRows.ToSingle(Row(next), _centre);
                if (_prune) UpdateCentreDistances(step);

                int s = step;
                Parallel.For(0, _chunks, k => PointPass(k, s));

                float best = -1f, join = 0;
                next = -1;
                long skippedStep = 0;
                for (int k = 0; k < _chunks; k++)
                {
                    if (_chunkMax[k] > best) { best = _chunkMax[k]; next = _chunkArg[k]; } // ties: lowest index
                    join = Math.Max(join, _chunkJoin[k]);
                    skippedStep += _chunkSkipped[k];
                }
                _clusterRadius[step] = MathF.Sqrt(join);
                radius2 = best;
                skipped += skippedStep;
                evaluations += _n - skippedStep;
                if (step % progressEvery == 0 || step == _size - 1)
                    reporter.Progress("coreset", step + 1, _size, $"radius {MathF.Sqrt(best):G4}");
            }
            return new CoresetResult(indices, MathF.Sqrt(radius2), evaluations, skipped);
        }

        private void UpdateCentreDistances(int step)
        {
            _pivotDist[step] = step == 0 ? 0 : MathF.Sqrt(HalfRows.SquaredDistance(_centre, CentreRow(0)));
            if (step == 0) return;
            float dcz = _pivotDist[step];
            Parallel.For(0, _workers, w =>
            {
                int lo = (int)((long)step * w / _workers), hi = (int)((long)step * (w + 1) / _workers);
                for (int j = lo; j < hi; j++)
                {
                    // Minus a rounding allowance relative to the distances involved (tiny clusters far from the pivot).
                    float lowerBound = Math.Abs(dcz - _pivotDist[j]) - 1e-5f * (dcz + _pivotDist[j]);
                    _centreDist[j] = lowerBound >= 2 * Margin * _clusterRadius[j]
                        ? float.PositiveInfinity
                        : HalfRows.SquaredDistance(_centre, CentreRow(j));
                }
            });
        }

        private void PointPass(int k, int step)
        {
            int lo = k * _chunk, hi = Math.Min(_n, lo + _chunk);
            float best = -1f, join = 0;
            int arg = -1;
            long skip = 0;
            var minDist = _minDist;
            var assigned = _assigned;
            var centreDist = _centreDist;
            const float pointMargin = 4 * Margin; // squared form of d(c, a) >= 2 mind (with margin)
            for (int p = lo; p < hi; p++)
            {
                float m = minDist[p];
                int a = assigned[p];
                if (_prune && a >= 0 && centreDist[a] >= pointMargin * m) skip++;
                else
                {
                    float d = HalfRows.SquaredDistance(_centre, Row(p));
                    if (d < m)
                    {
                        m = d;
                        minDist[p] = d;
                        assigned[p] = step;
                        if (d > join) join = d;
                    }
                }
                if (m > best) { best = m; arg = p; }
            }
            _chunkMax[k] = best;
            _chunkArg[k] = arg;
            _chunkJoin[k] = join;
            _chunkSkipped[k] = skip;
        }
    }
}
