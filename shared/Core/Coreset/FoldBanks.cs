namespace EdgePatchCore.Coreset;

/// <summary>
/// Cross-fitting banks, built cheaply from a finished selection over all training patches. For each fold
/// of images, the bank is the selection's rows that come from other images, plus greedy additions until every
/// patch outside the fold is again within the full selection's coverage radius: the fold's images then meet a
/// bank that is as dense as the shipped one over the images it was built from, and has never seen them.
///
/// Why not a fresh selection per fold: it costs a whole selection each (k of them). Here only the points whose
/// nearest chosen row belonged to the fold (<see cref="CoresetResult.Nearest"/>) need their distance to the
/// remaining rows again (one int8 GEMM, <see cref="CentreDistances"/>); everyone else keeps theirs
/// (<see cref="CoresetResult.MinDistances"/>), and the
/// greedy additions fill the holes the fold's rows leave. Simply dropping the fold's rows would leave those
/// holes open and bias the out-of-fold scores high (a threshold that lets defects through).
///
/// Rows are patches, image i owning rows [i * patchesPerImage, (i + 1) * patchesPerImage).
/// </summary>
public static class FoldBanks
{
    /// <summary>Images 0..imageCount-1 dealt to <paramref name="folds"/> folds in a seeded random order.</summary>
    public static int[][] Assign(int imageCount, int folds, int seed)
    {
        if (imageCount < 2) throw new ArgumentException("cross-fitting needs at least two images");
        folds = Math.Clamp(folds, 2, imageCount);
        var order = Enumerable.Range(0, imageCount).ToArray();
        new Random(seed).Shuffle(order);
        return Enumerable.Range(0, folds).Select(f => order.Where((_, i) => i % folds == f).Order().ToArray()).ToArray();
    }

    /// <param name="rows">the projected patches the selection ran on: N = images x patchesPerImage, d</param>
    /// <param name="selection">the selection over all of <paramref name="rows"/></param>
    public static Fold Build(QuantizedRows rows, int patchesPerImage, CoresetResult selection, int[] foldImages, CancellationToken cancel = default)
    {
        var inFold = new bool[rows.Count / patchesPerImage];
        foreach (int i in foldImages) inFold[i] = true;
        bool InFold(int row) => inFold[row / patchesPerImage];

        // 1. The selection's rows from other images stay; steps whose row is the fold's are gone.
        var removedStep = new bool[selection.Indices.Length];
        var kept = new List<int>();
        for (int s = 0; s < selection.Indices.Length; s++)
            if (InFold(selection.Indices[s])) removedStep[s] = true;
            else kept.Add(selection.Indices[s]);

        // 2. The points outside the fold; those that lost their nearest row measure again against the kept rows.
        var outside = new List<int>(rows.Count);
        var lost = new List<int>();
        for (int p = 0; p < rows.Count; p++)
        {
            if (InFold(p)) continue;
            if (removedStep[selection.Nearest[p]]) lost.Add(outside.Count);
            outside.Add(p);
        }
        if (outside.Count == 0) throw new ArgumentException("a fold cannot hold every image");
        var minDist = new int[outside.Count];
        for (int i = 0; i < outside.Count; i++) minDist[i] = selection.MinDistances[outside[i]];
        if (lost.Count > 0)
        {
            var again = GreedyCoreset.DistancesToCentres(rows, rows, kept, subset: lost.Select(i => outside[i]).ToArray(), cancel);
            for (int j = 0; j < lost.Count; j++) minDist[lost[j]] = again[j];
        }

        // 3. Greedy additions until the outside points are covered as the full selection covers all points (the passes read the
        // outside points straight from the rows: no copy of them besides the pass's own blocks).
        var added = GreedyCoreset.ExtendToRadius(rows, minDist, selection.RadiusSquared, maxAdded: outside.Count, outside, cancel);
        var bank = kept.Concat(added.Select(i => outside[i])).ToArray();
        return new Fold(foldImages, bank, kept.Count, added.Count);
    }
}
