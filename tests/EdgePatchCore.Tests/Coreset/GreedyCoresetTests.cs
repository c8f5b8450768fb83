using EdgePatchCore.Coreset;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Tests.Coreset;

public class GreedyCoresetTests
{
    /// <summary>Algorithm 1 of the paper written as plainly as possible: the reference to compare against.</summary>
    private static int[] NaiveGreedy(QuantizedRows rows, int size, int start)
    {
        int n = rows.Count, d = rows.Dimensions;
        var chosen = new List<int> { start };
        var min = new double[n];
        Array.Fill(min, double.PositiveInfinity);
        int c = start;
        while (true)
        {
            for (int p = 0; p < n; p++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) { double diff = rows.Row(p)[k] - rows.Row(c)[k]; s += diff * diff; }
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

    /// <summary>Points on a coarse grid: many exactly tied distances; optionally many exact duplicates.</summary>
    internal static QuantizedRows RandomPoints(int n, int d, int seed, bool withDuplicates, int spread = 8)
    {
        var rng = new Random(seed);
        var x = new sbyte[n * d];
        for (int i = 0; i < x.Length; i++) x[i] = (sbyte)(rng.Next(-spread, spread + 1) * (120 / spread));
        if (withDuplicates)
            for (int i = 0; i < n / 5; i++)
                Array.Copy(x, rng.Next(n) * d, x, rng.Next(n) * d, d);
        return new QuantizedRows(x, n, d, 0.5f);
    }

    [Theory]
    [InlineData(400, 8, 40, 1, false)]
    [InlineData(1000, 16, 100, 2, true)]
    [InlineData(5000, 24, 300, 3, true)]
    [InlineData(3000, 128, 300, 5, true)] // the production width
    [InlineData(20000, 128, 400, 6, true)] // several chunks: the parallel pass and its lowest-index tie-break
    [InlineData(300, 5, 300, 4, true)] // select everything: duplicates at distance 0 must still be picked
    [InlineData(200, 6, 200, 10, true)] // fewer points than planning candidates: every point is one
    [InlineData(257, 4, 257, 12, true)] // one point more than the candidates, all selected: ties at the candidates' floor
    public void Pruned_selection_equals_naive_greedy(int n, int d, int size, int seed, bool duplicates)
    {
        var x = RandomPoints(n, d, seed, duplicates);
        var expected = NaiveGreedy(x, size, GreedyCoreset.StartIndex(n, seed));
        var pruned = GreedyCoreset.Select(x, size, seed);
        var plain = GreedyCoreset.SelectPlain(x, size, seed);
        Assert.Equal(expected, plain.Indices);
        Assert.Equal(expected, pruned.Indices);
        Assert.Equal(plain.CoverageRadius, pruned.CoverageRadius);
        Assert.Equal(expected, GreedyCoreset.SelectWithoutVnni(x, size, seed, prune: true).Indices);
        Assert.Equal(expected, GreedyCoreset.SelectWithoutVnni(x, size, seed, prune: false).Indices);
        Assert.Equal(plain.BlocksTotal, pruned.BlocksTotal);
        Assert.Equal(plain.BlocksTotal, plain.BlocksRead);
        Assert.True(pruned.BlocksRead < pruned.BlocksTotal || d <= 32);
        // The batches give every point the same minimum and nearest step as one pass per centre.
        Assert.Equal(plain.MinDistances, pruned.MinDistances);
        Assert.Equal(plain.Nearest, pruned.Nearest);
        Assert.Equal(size, plain.Passes);
        Assert.InRange(pruned.Passes, (size + GreedyCoresetPass.MaxBatch - 1) / GreedyCoresetPass.MaxBatch, size);
    }

    [Fact]
    public void Farthest_candidates_keep_the_top_points_in_the_selection_order()
    {
        // Many ties: the order is larger distance first, then lower index, across the chunks a pass merges.
        var rng = new Random(3);
        var values = Enumerable.Range(0, 5000).Select(_ => rng.Next(50)).ToArray();
        var parts = new[] { new FarthestCandidates(100), new FarthestCandidates(100) };
        for (int p = 0; p < 2496; p += 8) parts[0].Offer(System.Runtime.Intrinsics.Vector256.Create(values.AsSpan(p, 8)), p);
        for (int p = 2496; p < values.Length; p++) parts[1].Offer(values[p], p);
        var (v, ix) = (new int[100], new int[100]);
        Assert.Equal(100, FarthestCandidates.Merge(parts, 100, v, ix));
        var expected = Enumerable.Range(0, values.Length).OrderByDescending(p => values[p]).ThenBy(p => p).Take(100).ToArray();
        Assert.Equal(expected, ix);
        Assert.Equal(expected.Select(p => values[p]), v);
        Assert.Equal(0, FarthestCandidates.Merge([new FarthestCandidates(100)], 100, v, ix));
    }

    [Fact]
    public void Later_steps_are_applied_in_batches()
    {
        // Spread points: the farthest few are rarely near each other, so most passes carry a full batch.
        var x = RandomPoints(20000, 128, 13, withDuplicates: false, spread: 60);
        var r = GreedyCoreset.Select(x, 2000, 13);
        Assert.True(r.Passes < 2000 / 8, $"{r.Passes} passes for 2000 steps");
        Assert.Equal(GreedyCoreset.SelectPlain(x, 2000, 13).Indices, r.Indices);
    }

    [Theory]
    [Trait("Category", GpuTests.Category)]
    [InlineData(3000, 128, 200, 7)]
    [InlineData(700, 24, 700, 8)] // everything, with duplicates
    public void Gpu_kernel_selection_equals_the_managed_one(int n, int d, int size, int seed)
    {
        // ILGPU's CPU accelerator in CI; packaging/gpu-check.sh runs this with EDGEPATCHCORE_TEST_DEVICE=cuda.
        var x = RandomPoints(n, d, seed, withDuplicates: true);
        using var gpu = GpuTests.Device == DeviceKind.Cuda
            ? GpuGreedyCoreset.TryOpenCuda(out string reason) ?? throw new InvalidOperationException("CUDA: " + reason)
            : GpuGreedyCoreset.OpenCpu();
        var onDevice = GpuGreedyCoreset.Select(x, size, seed, gpu.Accelerator);
        var managed = GreedyCoreset.Select(x, size, seed);
        Assert.Equal(managed.Indices, onDevice.Indices);
        Assert.Equal(managed.CoverageRadius, onDevice.CoverageRadius);
    }

    [Fact]
    public void Pruning_skips_work_when_the_first_dimensions_carry_the_distance()
    {
        // Well-separated clusters along the first dimensions: once each has a centre, the first block decides.
        var rng = new Random(5);
        int n = 4000, d = 128;
        var x = new sbyte[n * d];
        for (int p = 0; p < n; p++)
            for (int k = 0; k < d; k++) x[p * d + k] = (sbyte)(k < 8 ? (p / 200) * 12 - 120 + rng.Next(3) : rng.Next(3));
        var rows = new QuantizedRows(x, n, d, 1f);
        var r = GreedyCoreset.Select(rows, 200, 0);
        Assert.True(r.PrunedShare > 0.6, $"read {r.BlocksRead} of {r.BlocksTotal} blocks"); // four blocks, most groups settled by the first
        Assert.Equal(GreedyCoreset.SelectPlain(rows, 200, 0).Indices, r.Indices);
    }

    [Fact]
    public void Coverage_radius_is_the_largest_distance_to_the_chosen_set_in_projection_units()
    {
        var x = RandomPoints(500, 6, 9, false);
        var r = GreedyCoreset.Select(x, 25, 9);
        double worst = 0;
        for (int p = 0; p < 500; p++)
        {
            double best = double.PositiveInfinity;
            foreach (var c in r.Indices)
            {
                double s = 0;
                for (int k = 0; k < 6; k++) s += Math.Pow(x.Row(p)[k] - x.Row(c)[k], 2);
                best = Math.Min(best, s);
            }
            worst = Math.Max(worst, best);
        }
        Assert.Equal(Math.Sqrt(worst) * 0.5, r.CoverageRadius, 4);
        Assert.Equal(25, r.Indices.Distinct().Count());
    }

    [Fact]
    public void Int8_distance_is_exact_on_every_path()
    {
        // Extremes included: 256 dimensions of 127 vs -127 is the largest possible distance.
        var rng = new Random(1);
        foreach (int d in new[] { 1, 15, 16, 17, 31, 32, 48, 128, 200, 256 })
        {
            var a = new short[d];
            var b = new sbyte[d];
            for (int trial = 0; trial < 50; trial++)
            {
                long expected = 0;
                for (int k = 0; k < d; k++)
                {
                    a[k] = (short)(trial == 0 ? 127 : rng.Next(-127, 128));
                    b[k] = (sbyte)(trial == 0 ? -127 : rng.Next(-127, 128));
                    expected += (long)(a[k] - b[k]) * (a[k] - b[k]);
                }
                Assert.Equal(expected, QuantizedRows.SquaredDistance(a, b));
            }
        }
    }

    [Fact]
    public void Quantization_scales_by_the_largest_magnitude_and_rounds_to_nearest()
    {
        Half[] values = [(Half)0f, (Half)1f, (Half)(-2f), (Half)0.5f, (Half)(-0.49f), (Half)2f];
        var q = QuantizedRows.Quantize(values, 3, 2);
        Assert.Equal(2f / 127f, q.Scale, 6);
        Assert.Equal(new sbyte[] { 0, 64, -127, 32, -31, 127 }, q.Data);
        Assert.Throws<ArgumentException>(() => new QuantizedRows([sbyte.MinValue], 1, 1, 1f));
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

public class PrincipalAxesTests
{
    [Fact]
    public void Aligned_projection_keeps_distances_and_orders_variance()
    {
        // Rows with very different spreads along a few input directions.
        var rng = new Random(4);
        int n = 3000, inputs = 64, d = 32;
        var rows = new float[n * inputs];
        for (int r = 0; r < n; r++)
            for (int i = 0; i < inputs; i++) rows[r * inputs + i] = (float)(rng.NextDouble() * (i < 4 ? 10 : 0.3));
        var plain = new RandomProjection(inputs, d, 1);
        var aligned = plain.AlignedToPrincipalAxes(rows, n);
        var a = new float[n * d];
        var b = new float[n * d];
        plain.Project(rows, n, a);
        aligned.Project(rows, n, b);
        for (int t = 0; t < 100; t++)
        {
            int p = rng.Next(n), q = rng.Next(n);
            double da = 0, db = 0;
            for (int k = 0; k < d; k++)
            {
                da += Math.Pow(a[p * d + k] - a[q * d + k], 2);
                db += Math.Pow(b[p * d + k] - b[q * d + k], 2);
            }
            Assert.Equal(Math.Sqrt(da), Math.Sqrt(db), 3); // a rotation: same distances
        }
        var variance = new double[d];
        for (int k = 0; k < d; k++)
        {
            double mean = 0, sq = 0;
            for (int r = 0; r < n; r++) { mean += b[r * d + k]; sq += b[r * d + k] * (double)b[r * d + k]; }
            variance[k] = sq / n - Math.Pow(mean / n, 2);
        }
        for (int k = 1; k < d; k++) Assert.True(variance[k] <= variance[k - 1] * 1.0001, $"axis {k}: {variance[k]} > {variance[k - 1]}");
        Assert.True(variance.Take(4).Sum() > 0.9 * variance.Sum()); // four strong input directions
    }
}

public class QuantizedRowsFileTests
{
    [Fact]
    public void Saved_projection_loads_back_and_bad_files_are_refused()
    {
        using var dir = new TempFolder();
        var rows = GreedyCoresetTests.RandomPoints(100, 32, 1, withDuplicates: false);
        string path = System.IO.Path.Combine(dir.Path, "p.bin");
        rows.Save(path);
        var back = QuantizedRows.Load(path);
        Assert.Equal(rows.Data, back.Data);
        Assert.Equal((rows.Count, rows.Dimensions, rows.Scale), (back.Count, back.Dimensions, back.Scale));
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^1]);
        Assert.Contains("does not match", Assert.Throws<InvalidDataException>(() => QuantizedRows.Load(path)).Message);
        File.WriteAllBytes(path, new byte[40]);
        Assert.Contains("not a saved projection", Assert.Throws<InvalidDataException>(() => QuantizedRows.Load(path)).Message);
    }
}
