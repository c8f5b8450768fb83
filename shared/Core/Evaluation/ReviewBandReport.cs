namespace EdgePatchCore.Evaluation;

/// <summary>
/// What a REVIEW band (<see cref="Calibration.ReviewBand"/>) would do on a labelled test set: the good parts and the defects it routes to
/// an operator, and the closest calls on both sides of the reject threshold.
/// </summary>
public sealed record ReviewBandReport
{
    public const int CloseCallsEachSide = 5;

    public required double Rate { get; init; }
    /// <summary>The band is [From, Threshold).</summary>
    public required float From { get; init; }
    public required float Threshold { get; init; }
    public required int Good { get; init; }
    public required int GoodInBand { get; init; }
    public required int Defective { get; init; }
    public required int DefectsInBand { get; init; }
    public required SortedDictionary<string, int> DefectsInBandByType { get; init; }
    /// <summary>The highest scores under the threshold (passed or sent to review), closest first.</summary>
    public required List<CloseCall> Below { get; init; }
    /// <summary>The lowest scores at or over it (rejected), closest first.</summary>
    public required List<CloseCall> Above { get; init; }

    /// <summary>One image near the threshold: its path, "good" or its defect type, and its score.</summary>
    public sealed record CloseCall(string Image, string Label, float Score);

    /// <param name="types">the defect type of image i, or null for a good one</param>
    public static ReviewBandReport Of(double rate, float from, float threshold, IReadOnlyList<string> paths, IReadOnlyList<float> scores,
                                      IReadOnlyList<string?> types)
    {
        var band = Enumerable.Range(0, scores.Count).Where(i => scores[i] >= from && scores[i] < threshold).ToList();
        var byType = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var i in band.Where(i => types[i] is not null)) byType[types[i]!] = byType.GetValueOrDefault(types[i]!) + 1;
        CloseCall Call(int i) => new(paths[i], types[i] ?? "good", scores[i]);
        return new ReviewBandReport
        {
            Rate = rate, From = from, Threshold = threshold, Good = types.Count(t => t is null), GoodInBand = band.Count(i => types[i] is null),
            Defective = types.Count(t => t is not null), DefectsInBand = band.Count(i => types[i] is not null), DefectsInBandByType = byType,
            Below = Enumerable.Range(0, scores.Count).Where(i => scores[i] < threshold).OrderByDescending(i => scores[i])
                .Take(CloseCallsEachSide).Select(Call).ToList(),
            Above = Enumerable.Range(0, scores.Count).Where(i => scores[i] >= threshold).OrderBy(i => scores[i])
                .Take(CloseCallsEachSide).Select(Call).ToList(),
        };
    }
}
