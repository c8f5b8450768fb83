using EdgePatchCore.Coreset;

namespace EdgePatchCore.Tests.Coreset;

public class FoldBanksTests
{
    private static int SquaredDistance(QuantizedRows rows, int a, int b)
    {
        int s = 0;
        for (int k = 0; k < rows.Dimensions; k++) { int d = rows.Row(a)[k] - rows.Row(b)[k]; s += d * d; }
        return s;
    }

    [Theory]
    [InlineData(3000, 128, 300, 5)]
    [InlineData(20000, 128, 400, 6)] // several chunks
    [InlineData(700, 24, 700, 8)]    // everything, with duplicates at distance 0
    public void Every_point_knows_its_distance_to_the_selection_and_the_first_step_that_reached_it(int n, int d, int size, int seed)
    {
        var x = GreedyCoresetTests.RandomPoints(n, d, seed, withDuplicates: true);
        foreach (var r in new[] { GreedyCoreset.Select(x, size, seed), GreedyCoreset.SelectPlain(x, size, seed),
                                  GreedyCoreset.SelectWithoutVnni(x, size, seed, prune: true) })
        {
            for (int p = 0; p < n; p += 7)
            {
                var distances = r.Indices.Select(c => SquaredDistance(x, p, c)).ToArray();
                Assert.Equal(distances.Min(), r.MinDistances[p]);
                Assert.Equal(Array.IndexOf(distances, distances.Min()), r.Nearest[p]);
            }
            Assert.Equal(r.RadiusSquared, r.MinDistances.Max());
        }
    }

    [Fact]
    [Trait("Category", GpuTests.Category)]
    public void The_gpu_kernel_reports_the_same_distances_and_nearest_steps()
    {
        var x = GreedyCoresetTests.RandomPoints(3000, 128, 7, withDuplicates: true);
        using var gpu = GpuTests.Device == EdgePatchCore.Devices.DeviceKind.Cuda
            ? GpuGreedyCoreset.TryOpenCuda(out string reason) ?? throw new InvalidOperationException("CUDA: " + reason)
            : GpuGreedyCoreset.OpenCpu();
        var onDevice = GpuGreedyCoreset.Select(x, 200, 7, gpu.Accelerator);
        var managed = GreedyCoreset.Select(x, 200, 7);
        Assert.Equal(managed.MinDistances, onDevice.MinDistances);
        Assert.Equal(managed.Nearest, onDevice.Nearest);
    }

    [Fact]
    public void Folds_deal_every_image_once()
    {
        var folds = FoldBanks.Assign(23, 5, 1);
        Assert.Equal(5, folds.Length);
        Assert.Equal(Enumerable.Range(0, 23), folds.SelectMany(f => f).Order());
        Assert.All(folds, f => Assert.InRange(f.Length, 4, 5));
        Assert.Equal(3, FoldBanks.Assign(3, 5, 1).Length); // never more folds than images
    }

    [Theory]
    [InlineData(40, 50, 0.1, 1)]
    [InlineData(12, 100, 0.05, 2)]
    [InlineData(5, 30, 0.5, 3)]
    public void A_fold_bank_holds_no_row_of_its_images_and_covers_every_other_point_as_the_full_selection_does(int images, int perImage, double fraction, int seed)
    {
        var x = GreedyCoresetTests.RandomPoints(images * perImage, 32, seed, withDuplicates: true);
        var selection = GreedyCoreset.Select(x, (int)(x.Count * fraction), seed);
        foreach (var foldImages in FoldBanks.Assign(images, 5, seed))
        {
            var fold = FoldBanks.Build(x, perImage, selection, foldImages);
            var own = foldImages.ToHashSet();
            Assert.DoesNotContain(fold.BankRows, r => own.Contains(r / perImage));
            Assert.Equal(fold.BankRows.Length, fold.BankRows.Distinct().Count());
            Assert.Equal(selection.Indices.Where(r => !own.Contains(r / perImage)), fold.BankRows.Take(fold.KeptRows));
            for (int p = 0; p < x.Count; p++)
            {
                if (own.Contains(p / perImage)) continue;
                int nearest = fold.BankRows.Min(r => SquaredDistance(x, p, r));
                Assert.True(nearest <= selection.RadiusSquared, $"point {p} lies {nearest} from the fold bank, radius^2 {selection.RadiusSquared}");
            }
        }
    }

    [Fact]
    public void Distances_to_given_centres_and_the_greedy_extension_match_the_plain_computation()
    {
        var x = GreedyCoresetTests.RandomPoints(2000, 64, 4, withDuplicates: true);
        int[] centres = [5, 17, 900, 1999, 33];
        var d = GreedyCoreset.DistancesToCentres(x, x, centres);
        for (int p = 0; p < x.Count; p++) Assert.Equal(centres.Min(c => SquaredDistance(x, p, c)), d[p]);

        // Continuing from those centres adds exactly what the plain greedy adds after them.
        var added = GreedyCoreset.ExtendToRadius(x, d, radiusSquared: 0, maxAdded: 40);
        var min = (int[])d.Clone();
        foreach (int a in added)
        {
            int farthest = Enumerable.Range(0, x.Count).MaxBy(p => (min[p], -p));
            Assert.Equal(farthest, a);
            for (int p = 0; p < x.Count; p++) min[p] = Math.Min(min[p], SquaredDistance(x, p, a));
        }
        Assert.Equal(40, added.Count);
        int radius = min.Max();
        Assert.Empty(GreedyCoreset.ExtendToRadius(x, min, radius, 10));
    }

    [Fact]
    public void The_extension_stops_at_the_radius_as_the_plain_greedy_does()
    {
        // Points outside a fold (a subset, read in place), extended until none is farther than a radius: the stop falls inside a
        // batch, and every point added before it is the plain greedy's.
        var x = GreedyCoresetTests.RandomPoints(3000, 32, 8, withDuplicates: true, spread: 30);
        int[] subset = Enumerable.Range(0, x.Count).Where(p => p % 4 != 0).ToArray();
        var d = GreedyCoreset.DistancesToCentres(x, x, [0, 4, 8], subset);
        var plain = new List<int>();
        var min = (int[])d.Clone();
        int radius = min.Max() / 3;
        while (min.Max() > radius)
        {
            int farthest = Enumerable.Range(0, min.Length).MaxBy(p => (min[p], -p));
            plain.Add(farthest);
            for (int p = 0; p < min.Length; p++) min[p] = Math.Min(min[p], SquaredDistance(x, subset[p], subset[farthest]));
        }
        Assert.True(plain.Count > GreedyCoresetPass.MaxBatch, $"{plain.Count} added");
        Assert.Equal(plain, GreedyCoreset.ExtendToRadius(x, d, radius, maxAdded: 10_000, subset));
        Assert.Equal(plain.Take(5), GreedyCoreset.ExtendToRadius(x, d, radius, maxAdded: 5, subset));
    }

    [Theory]
    [InlineData(3000, 128, 700)]  // several GEMM runs, extremes of the int8 range
    [InlineData(500, 24, 1)]      // one centre; dimensions not a multiple of anything
    public void The_int8_gemm_and_the_pruned_passes_give_the_same_distances_to_centres(int n, int d, int centres)
    {
        var x = GreedyCoresetTests.RandomPoints(n, d, 11, withDuplicates: true);
        x.Data[3] = 127; // the ends of the range, where a saturating product would show
        x.Data[d + 3] = -127;
        var rng = new Random(3);
        int[] chosen = Enumerable.Range(0, centres).Select(_ => rng.Next(n)).ToArray();
        int[] subset = Enumerable.Range(0, n).Where(p => p % 3 != 1).ToArray();
        Assert.Equal(GreedyCoreset.DistancesToCentresByPasses(x, x, chosen, subset), CentreDistances.Nearest(x, subset, x, chosen, default));
        Assert.Equal(GreedyCoreset.DistancesToCentresByPasses(x, x, chosen), CentreDistances.Nearest(x, null, x, chosen, default));
        Assert.All(CentreDistances.Nearest(x, subset, x, [], default), v => Assert.Equal(int.MaxValue, v));
        for (int i = 0; i < subset.Length; i += 37)
            Assert.Equal(chosen.Min(c => SquaredDistance(x, subset[i], c)), GreedyCoreset.DistancesToCentres(x, x, chosen, subset)[i]);
    }
}
