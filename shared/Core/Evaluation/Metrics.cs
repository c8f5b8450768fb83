namespace EdgePatchCore.Evaluation;

/// <summary>The metrics of the PatchCore paper (section 4.1): AUROC, PRO, and the F1-optimal threshold.</summary>
public static class Metrics
{
    /// <summary>
    /// Area under the ROC curve; tied scores form one diagonal step (equivalent to the Mann-Whitney
    /// statistic with mid-ranks). Null when either class is absent.
    /// </summary>
    public static double? Auroc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> positive)
    {
        var keys = scores.ToArray();
        var labels = new int[keys.Length];
        for (int i = 0; i < labels.Length; i++) labels[i] = positive[i] ? 0 : -1;
        return SortedCurves(keys, labels, regionSizes: [], maxFpr: 0).Auroc;
    }

    /// <summary>
    /// Pixel AUROC and PRO (area under the per-region-overlap curve up to <paramref name="maxFpr"/>,
    /// divided by <paramref name="maxFpr"/>, as Bergmann et al.). Regions are the 8-connected
    /// components of each ground-truth mask (non-zero = defect); a null mask means a defect-free image.
    /// </summary>
    /// <param name="proCurve">when given, receives (FPR, PRO) points up to <paramref name="maxFpr"/> (about one per 0.001 of either)</param>
    /// <param name="regionSizes">when given, receives the pixel count of every defect region</param>
    public static (double? PixelAuroc, double? Pro) PixelMetrics(
        IReadOnlyList<float[]> maps, IReadOnlyList<byte[]?> masks, int width, int height, double maxFpr = 0.3,
        List<(double Fpr, double Pro)>? proCurve = null, List<int>? regionSizes = null)
    {
        if (maps.Count != masks.Count) throw new ArgumentException("one mask (or null) per map is needed");
        int plane = width * height;
        var keys = new float[(long)maps.Count * plane];
        var labels = new int[keys.Length];
        var sizes = regionSizes ?? [];
        sizes.Clear();
        for (int i = 0; i < maps.Count; i++)
        {
            if (maps[i].Length != plane) throw new ArgumentException($"map {i} has {maps[i].Length} pixels, expected {plane}");
            maps[i].CopyTo(keys, (long)i * plane);
            var target = labels.AsSpan(i * plane, plane);
            if (masks[i] is { } mask)
            {
                if (mask.Length != plane) throw new ArgumentException($"mask {i} has {mask.Length} pixels, expected {plane}");
                sizes.AddRange(ConnectedComponents.Label(mask, width, height, target, sizes.Count));
            }
            else target.Fill(-1);
        }
        var curves = SortedCurves(keys, labels, sizes.ToArray(), maxFpr, proCurve);
        return (curves.Auroc, curves.Pro);
    }

    /// <summary>
    /// One descending sort, one walk: ROC points for AUROC and (FPR, PRO) points for PRO.
    /// Sorts <paramref name="keys"/> and <paramref name="labels"/> in place.
    /// </summary>
    private static (double? Auroc, double? Pro) SortedCurves(float[] keys, int[] labels, int[] regionSizes, double maxFpr,
                                                             List<(double Fpr, double Pro)>? proCurve = null)
    {
        long positives = 0, negatives = 0;
        foreach (var l in labels) if (l >= 0) positives++; else negatives++;
        if (positives == 0 || negatives == 0) return (null, null);
        // Ascending sort of negated keys = descending order of scores.
        for (int i = 0; i < keys.Length; i++) keys[i] = -keys[i];
        Array.Sort(keys, labels);

        int regions = regionSizes.Length;
        double auc = 0, proArea = 0;
        long tp = 0, fp = 0;
        double pro = 0, prevFpr = 0, prevPro = 0, prevTpr = 0;
        bool proDone = regions == 0 || maxFpr <= 0;
        for (int i = 0; i < keys.Length;)
        {
            int j = i;
            while (j < keys.Length && keys[j] == keys[i])
            {
                int l = labels[j];
                if (l >= 0)
                {
                    tp++;
                    if (regions > 0) pro += 1.0 / ((double)regionSizes[l] * regions);
                }
                else fp++;
                j++;
            }
            double fpr = (double)fp / negatives, tpr = (double)tp / positives;
            auc += (fpr - prevFpr) * (tpr + prevTpr) / 2;
            if (!proDone)
            {
                if (fpr >= maxFpr)
                {
                    // Interpolate the last segment up to exactly maxFpr.
                    double t = fpr > prevFpr ? (maxFpr - prevFpr) / (fpr - prevFpr) : 0;
                    double proAt = prevPro + t * (pro - prevPro);
                    proArea += (maxFpr - prevFpr) * (prevPro + proAt) / 2;
                    proDone = true;
                }
                else proArea += (fpr - prevFpr) * (prevPro + pro) / 2;
                if (proCurve is not null && (proCurve.Count == 0 || fpr - proCurve[^1].Fpr >= 1e-3 || pro - proCurve[^1].Pro >= 1e-3))
                    proCurve.Add((Math.Min(fpr, maxFpr), proDone ? prevPro
                        + (fpr > prevFpr ? (maxFpr - prevFpr) / (fpr - prevFpr) : 0) * (pro - prevPro) : pro));
            }
            prevFpr = fpr; prevTpr = tpr; prevPro = pro;
            i = j;
        }
        return (auc, regions == 0 || maxFpr <= 0 ? null : proArea / maxFpr);
    }

    /// <summary>
    /// The threshold that maximises F1 with "defective" as the positive class (score >= threshold is
    /// judged defective), the F1 there and the number of misclassified images.
    /// </summary>
    public static (float Threshold, double F1, int Misclassified)? F1Optimal(ReadOnlySpan<float> scores, ReadOnlySpan<bool> defective)
    {
        int n = scores.Length, positives = 0;
        foreach (var d in defective) if (d) positives++;
        if (positives == 0 || positives == n) return null;
        var s = scores.ToArray();
        var order = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ToArray();
        var lab = defective.ToArray();
        int tp = 0, fp = 0;
        (float, double, int) best = (float.PositiveInfinity, -1, n);
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j < n && s[order[j]] == s[order[i]]) { if (lab[order[j]]) tp++; else fp++; j++; }
            double f1 = 2.0 * tp / (2.0 * tp + fp + (positives - tp));
            int wrong = fp + (positives - tp);
            if (f1 > best.Item2) best = (s[order[i]], f1, wrong);
            i = j;
        }
        return best;
    }
}
