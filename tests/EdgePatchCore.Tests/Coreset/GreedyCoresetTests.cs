using EdgePatchCore.Coreset;

namespace EdgePatchCore.Tests.Coreset;

public class GreedyCoresetTests
{
    /// <summary>Algorithm 1 of the paper written as plainly as possible: the reference to compare against.</summary>
    private static int[] NaiveGreedy(Half[] h, int n, int d, int size, int start)
    {
        var x = h.Select(v => (double)v).ToArray();
        var chosen = new List<int> { start };
        var min = new double[n];
        for (int p = 0; p < n; p++) min[p] = double.PositiveInfinity;
        int c = start;
        while (true)
        {
            for (int p = 0; p < n; p++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) { double diff = x[p * d + k] - x[c * d + k]; s += diff * diff; }
                min[p] = Math.Min(min[p], s);
            }
            if (chosen.Count == size) break;
            int best = 0;
            for (int p = 1; p < n; p++) if (min[p] > min[best]) best = p; // ties: lowest index
            chosen.Add(best);
            c = best;
        }
        return chosen.ToArray();
    }

    /// <summary>Points on a coarse grid (exact in float16): many exactly tied distances.</summary>
    private static Half[] RandomPoints(int n, int d, int seed, bool withDuplicates)
    {
        var rng = new Random(seed);
        var x = new Half[n * d];
        for (int i = 0; i < x.Length; i++) x[i] = (Half)(rng.Next(-8, 9) / 4f);
        if (withDuplicates)
            for (int i = 0; i < n / 5; i++)
            {
                int a = rng.Next(n), b = rng.Next(n);
                Array.Copy(x, a * d, x, b * d, d);
            }
        return x;
    }

    [Theory]
    [InlineData(400, 8, 40, 1, false)]
    [InlineData(1000, 16, 100, 2, true)]
    [InlineData(5000, 24, 300, 3, true)]
    [InlineData(3000, 128, 300, 5, true)] // the production width (SIMD path)
    [InlineData(300, 5, 300, 4, true)] // select everything: duplicates at distance 0 must still be picked
    public void Pruned_selection_equals_naive_greedy(int n, int d, int size, int seed, bool duplicates)
    {
        var x = RandomPoints(n, d, seed, duplicates);
        var expected = NaiveGreedy(x, n, d, size, GreedyCoreset.StartIndex(n, seed));
        var pruned = GreedyCoreset.Select(x, n, d, size, seed);
        var plain = GreedyCoreset.SelectPlain(x, n, d, size, seed);
        Assert.Equal(expected, plain.Indices);
        Assert.Equal(expected, pruned.Indices);
        Assert.Equal(plain.CoverageRadius, pruned.CoverageRadius);
    }

    [Fact]
    public void Pruning_skips_work_on_clustered_data()
    {
        // Well-separated clusters: once each has a centre, most points cannot move.
        var rng = new Random(5);
        int n = 4000, d = 16;
        var x = new Half[n * d];
        for (int p = 0; p < n; p++)
            for (int k = 0; k < d; k++) x[p * d + k] = (Half)((p % 20) * 10 + rng.NextDouble());
        var r = GreedyCoreset.Select(x, n, d, 200, 0);
        Assert.True(r.SkippedEvaluations > r.DistanceEvaluations, $"skipped {r.SkippedEvaluations}, computed {r.DistanceEvaluations}");
    }

    [Fact]
    public void Coverage_radius_is_the_largest_distance_to_the_chosen_set()
    {
        var x = RandomPoints(500, 6, 9, false);
        var r = GreedyCoreset.Select(x, 500, 6, 25, 9);
        double worst = 0;
        for (int p = 0; p < 500; p++)
        {
            double best = double.PositiveInfinity;
            foreach (var c in r.Indices)
            {
                double s = 0;
                for (int k = 0; k < 6; k++) s += Math.Pow((double)x[p * 6 + k] - (double)x[c * 6 + k], 2);
                best = Math.Min(best, s);
            }
            worst = Math.Max(worst, best);
        }
        Assert.Equal(Math.Sqrt(worst), r.CoverageRadius, 5);
        Assert.Equal(25, r.Indices.Distinct().Count());
    }

    [Fact]
    public void Half_widening_is_exact_for_every_finite_value()
    {
        // One lane at a time through the SIMD path: sum (0 - b)^2 over a row of zeros but one value = b^2.
        var zeros = new float[16];
        var row = new Half[16];
        for (int bits = 0; bits < 0x10000; bits++)
        {
            var h = BitConverter.UInt16BitsToHalf((ushort)bits);
            if (!Half.IsFinite(h)) continue;
            row[bits % 16] = h;
            float expected = (float)h * (float)h;
            Assert.Equal(expected, HalfRows.SquaredDistance(zeros, row));
            row[bits % 16] = default;
        }
    }

    [Fact]
    public void Projection_is_seeded_and_roughly_preserves_distances()
    {
        var a = new RandomProjection(384, 128, 1);
        var b = new RandomProjection(384, 128, 1);
        var rng = new Random(3);
        var rows = Enumerable.Range(0, 2 * 384).Select(_ => (float)rng.NextDouble()).ToArray();
        var pa = new float[256];
        var pb = new float[256];
        a.Project(rows, 2, pa);
        b.Project(rows, 2, pb);
        Assert.Equal(pa, pb);
        static double Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            double s = 0;
            for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (double)(a[i] - b[i]);
            return Math.Sqrt(s);
        }
        double original = Distance(rows.AsSpan(0, 384), rows.AsSpan(384, 384));
        double projected = Distance(pa.AsSpan(0, 128), pa.AsSpan(128, 128));
        Assert.InRange(projected / original, 0.7, 1.3); // JL: 128 dims keep distances within tens of percent
    }
}
