using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Coreset;
/// <summary>
/// Exact greedy k-center selection (Algorithm 1 of the PatchCore paper; minimax facility location):
/// start from a seeded random point, then repeatedly add the point farthest from the chosen set
/// (ties: the lowest index). Memory is O(N): per point its squared distance to the nearest centre, and the
/// int8 rows (exact integer distances, see <see cref="QuantizedRows"/>), here split into blocks of 32
/// dimensions so that a pass can read the first block of every point alone.
///
/// <see cref="SelectPlain"/> streams every point through the full distance each step, eight points at a time.
/// <see cref="Select"/> also goes eight points at a time, but block by block, and stops as soon as the partial
/// sums of all eight reach their mind(p): a squared distance only grows, so then d(p, c) >= mind(p) and none of
/// them can change. It also applies a batch of centres a pass, found exactly before the pass from the farthest
/// points of the last one (<see cref="NextCentres"/>; docs/design.md, "Coreset selection in batches"). The
/// projection's axes are its principal axes in decreasing variance
/// (<see cref="RandomProjection.AlignedToPrincipalAxes"/>), so the first block holds about three quarters of
/// every distance and most groups are settled after it. Both are exact (integer arithmetic, no rounding
/// margin), so both return the same indices.
///
/// Every pass also keeps, per point, the step of its nearest centre (the first to reach mind(p)): the
/// selection's result carries mind and that step for every point, so <see cref="FoldBanks"/> can derive
/// cross-fitting banks from it with <see cref="DistancesToCentres"/> and <see cref="ExtendToRadius"/>
/// instead of selecting again.
///
/// (The triangle-inequality test d(c, a(p)) >= 2 mind(p) was tried too: on 150 MTD images it skipped 30% of
/// the points but costs a gather per eight points and a pass over all earlier centres per step; with the
/// first-block test in place the selection took 3.9 s with it and 2.7 s without.)
/// </summary>
public static class GreedyCoreset
{
    public static CoresetResult Select(QuantizedRows rows, int size, int seed, IProgress<StageProgress>? progress = null,
        CancellationToken cancel = default)
        => new GreedyCoresetPass(rows, size, prune: true).Execute(seed, progress, cancel);

    /// <summary>The plain algorithm: the full distance of every point to the new centre, every step.</summary>
    public static CoresetResult SelectPlain(QuantizedRows rows, int size, int seed, IProgress<StageProgress>? progress = null,
        CancellationToken cancel = default)
        => new GreedyCoresetPass(rows, size, prune: false).Execute(seed, progress, cancel);

    public static int StartIndex(int count, int seed) => new Random(seed).Next(count);

    /// <summary>
    /// The squared distance of every point to its nearest row among <paramref name="centres"/> (rows of
    /// <paramref name="source"/>, same scale as <paramref name="points"/>): one int8 GEMM (<see cref="CentreDistances"/>) where the
    /// CPU computes it exactly, else one pruned greedy pass per centre; the two agree bit for bit.
    /// int.MaxValue for every point when there are no centres. With <paramref name="subset"/>, the points are those rows of
    /// <paramref name="points"/> (read in place, not copied), and the result has one distance per entry of it.
    /// </summary>
    public static int[] DistancesToCentres(QuantizedRows points, QuantizedRows source, IReadOnlyList<int> centres,
        IReadOnlyList<int>? subset = null, CancellationToken cancel = default) =>
        CentreDistances.IsExact ? CentreDistances.Nearest(points, subset, source, centres, cancel)
            : DistancesToCentresByPasses(points, source, centres, subset, cancel);

    /// <summary><see cref="DistancesToCentres"/> by one pruned greedy pass per centre: where the int8 GEMM is not exact, and for tests.</summary>
    internal static int[] DistancesToCentresByPasses(QuantizedRows points, QuantizedRows source, IReadOnlyList<int> centres,
        IReadOnlyList<int>? subset = null, CancellationToken cancel = default)
    {
        var run = new GreedyCoresetPass(points, centres.Count, prune: true, points: subset);
        var batch = new int[GreedyCoresetPass.MaxBatch];
        for (int s = 0; s < centres.Count; s += batch.Length)
        {
            cancel.ThrowIfCancellationRequested();
            int count = Math.Min(batch.Length, centres.Count - s);
            for (int j = 0; j < count; j++) batch[j] = centres[s + j];
            run.SetCentres(source, batch.AsSpan(0, count));
            run.Step(s, pruned: true);
        }
        return run.MinDistances;
    }

    /// <summary>
    /// Continues a greedy selection whose squared distances to the chosen set are <paramref name="minDistances"/>
    /// (one per point): adds the farthest point while it is farther than <paramref name="radiusSquared"/>, at most
    /// <paramref name="maxAdded"/> points. Returns the added points' indices in selection order. With
    /// <paramref name="subset"/>, the points are those rows of <paramref name="points"/> (read in place, not copied), and the
    /// indices returned are positions in it.
    /// </summary>
    public static List<int> ExtendToRadius(QuantizedRows points, int[] minDistances, int radiusSquared, int maxAdded,
        IReadOnlyList<int>? subset = null, CancellationToken cancel = default)
    {
        if (minDistances.Length != (subset?.Count ?? points.Count)) throw new ArgumentException("one distance per point");
        if (maxAdded <= 0 || minDistances.Max() <= radiusSquared) return [];
        var run = new GreedyCoresetPass(points, maxAdded, prune: true, initialMinDist: minDistances, points: subset);
        return run.Extend(radiusSquared, maxAdded, cancel);
    }

    /// <summary>For tests: either selection with the AVX-VNNI kernels switched off (the AVX2 and scalar paths).</summary>
    internal static CoresetResult SelectWithoutVnni(QuantizedRows rows, int size, int seed, bool prune)
        => new GreedyCoresetPass(rows, size, prune, allowVnni: false).Execute(seed, null, default);
}
