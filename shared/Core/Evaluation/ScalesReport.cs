using EdgePatchCore.Scoring;

namespace EdgePatchCore.Evaluation;

/// <summary>
/// What each scale of a model with both scales contributes (docs/TILING.md, "Both scales"): per defect type the image AUROC of the tiles
/// alone, the whole frame alone and the combined score, and which scale's score rejected each caught defect; and the tiles alone at their
/// own threshold, the model a tiled build without the whole-frame scale would be.
/// </summary>
public sealed record ScalesReport
{
    public required float TilesThreshold { get; init; }
    public required float WholeFrameThreshold { get; init; }
    public required OperatingPoint TilesAlone { get; init; }
    /// <summary>Per defect type, and "all".</summary>
    public required SortedDictionary<string, Contribution> PerDefect { get; init; }

    /// <param name="CaughtByTiles">defects rejected at the model's threshold whose score came from the tiles</param>
    /// <param name="CaughtByWholeFrame">the same, score from the whole frame</param>
    public sealed record Contribution(int Count, double? TilesAuroc, double? WholeFrameAuroc, double? CombinedAuroc, int CaughtByTiles,
        int CaughtByWholeFrame);

    /// <summary>
    /// The report for scored images (<paramref name="defectTypes"/>[i] null for a good one) of a model with the whole-frame scale
    /// <paramref name="view"/> and the combined <paramref name="threshold"/>; null when a score lacks either scale.
    /// </summary>
    public static ScalesReport? Of(IReadOnlyList<ImageScore> scores, IReadOnlyList<string?> defectTypes, float threshold,
        Artifacts.WholeFrameView view)
    {
        if (scores.Count == 0 || scores.Any(s => s.Scales is null)) return null;
        var scales = scores.Select(s => s.Scales!).ToArray();
        var perDefect = new SortedDictionary<string, Contribution>(StringComparer.Ordinal);
        foreach (var type in defectTypes.OfType<string>().Distinct().Append("all"))
        {
            var idx = Enumerable.Range(0, scores.Count).Where(i => defectTypes[i] is null || type == "all" || defectTypes[i] == type).ToArray();
            var defective = idx.Select(i => defectTypes[i] is not null).ToArray();
            double? Auroc(Func<int, float> score) => Metrics.Auroc(idx.Select(score).ToArray(), defective);
            var caught = idx.Where(i => defectTypes[i] is not null && Judge.Of(scores[i].Score, threshold) != Judgement.Ok).ToArray();
            int byWhole = caught.Count(i => scales[i].WholeFrameDecides);
            perDefect[type] = new Contribution(defective.Count(d => d), Auroc(i => scales[i].Tiles), Auroc(i => scales[i].WholeFrame),
                Auroc(i => scores[i].Score), caught.Length - byWhole, byWhole);
        }
        return new ScalesReport
        {
            TilesThreshold = view.TilesThreshold, WholeFrameThreshold = view.Threshold,
            TilesAlone = OperatingPoint.At("tiles alone", view.TilesThreshold, scales.Select(s => s.Tiles).ToArray(), defectTypes),
            PerDefect = perDefect,
        };
    }
}
