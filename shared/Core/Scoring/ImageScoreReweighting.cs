using EdgePatchCore.Search;

namespace EdgePatchCore.Scoring;

/// <summary>
/// Eq. 7 of the PatchCore paper: s = (1 - exp(d_0) / sum_j exp(d_j)) * s*, where d_0 = s* is the
/// distance from the most anomalous test patch to its nearest bank entry m*, and d_1..d_{b-1} its
/// distances to the other b-1 nearest bank neighbours of m*. A patch whose match sits in a sparse
/// region of the bank (far from its neighbours) keeps more of its score.
/// </summary>
public static class ImageScoreReweighting
{
    /// <summary>
    /// b: how many bank neighbours of m* enter Eq. 7 for <paramref name="spec"/> and a bank of <paramref name="bankRows"/>
    /// rows; 1 means no re-weighting (s = s*). The whole-frame scorer, the tiled scorer and the cross-fitted calibration all
    /// ask here, so the threshold is set on the score the agent computes.
    /// </summary>
    public static int NeighbourCount(Artifacts.ScoringSpec spec, int bankRows) => spec.Reweight ? Math.Max(1, Math.Min(spec.NeighbourCount,
        bankRows)) : 1;

    /// <summary>The index of s* = max_i s_i (the first of equal maxima).</summary>
    public static int ArgMax(ReadOnlySpan<float> patchScores)
    {
        int arg = 0;
        for (int p = 1; p < patchScores.Length; p++) if (patchScores[p] > patchScores[arg]) arg = p;
        return arg;
    }

    public static float Weight(ReadOnlySpan<float> distances)
    {
        if (distances.Length == 0) throw new ArgumentException("need at least d_0");
        // Softmax with the maximum subtracted, for numerical safety; same value as the plain formula.
        float max = distances[0];
        foreach (var d in distances) max = Math.Max(max, d);
        double sum = 0;
        foreach (var d in distances) sum += Math.Exp(d - max);
        return (float)(1.0 - Math.Exp(distances[0] - max) / sum);
    }

    /// <summary>
    /// The image score s of Eq. 7 for the image whose most anomalous patch <paramref name="query"/> (D floats)
    /// lies <paramref name="sStar"/> from its nearest bank row m*; <paramref name="neighbours"/> are the b nearest
    /// bank rows of m*, m* first. <paramref name="scratch"/> holds at least b floats.
    /// </summary>
    public static float Score(float sStar, ReadOnlySpan<float> query, ReadOnlySpan<int> neighbours, NearestNeighbourSearch bank, Span<float> scratch)
    {
        int b = neighbours.Length;
        if (b <= 1) return sStar;
        scratch[0] = sStar;
        for (int j = 1; j < b; j++) scratch[j] = bank.Distance(query, neighbours[j]);
        return Weight(scratch[..b]) * sStar;
    }

    /// <summary>
    /// Puts row <paramref name="self"/> first in its own neighbour list (b entries, nearest first): duplicates can
    /// rank another row first, or push the row itself out of the list; the nearest others are kept.
    /// </summary>
    public static void SelfFirst(Span<int> neighbours, int self)
    {
        int at = neighbours.IndexOf(self);
        if (at == 0) return;
        if (at < 0) at = neighbours.Length - 1;
        for (int j = at; j > 0; j--) neighbours[j] = neighbours[j - 1];
        neighbours[0] = self;
    }
}
