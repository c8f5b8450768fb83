namespace EdgePatchCore.Scoring;

/// <summary>
/// Eq. 7 of the PatchCore paper: s = (1 - exp(d_0) / sum_j exp(d_j)) * s*, where d_0 = s* is the
/// distance from the most anomalous test patch to its nearest bank entry m*, and d_1..d_{b-1} its
/// distances to the other b-1 nearest bank neighbours of m*. A patch whose match sits in a sparse
/// region of the bank (far from its neighbours) keeps more of its score.
/// </summary>
public static class ImageScoreReweighting
{
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
}
