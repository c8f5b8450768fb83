namespace EdgePatchCore.Evaluation;

/// <summary>
/// What a threshold does on a labelled test set, in the terms a plant counts: good parts rejected
/// (false rejects) and defects let through (escapes), overall and per defect type, with counts. A part is
/// rejected when its score is at or above the threshold, as the agent decides.
/// </summary>
public sealed record OperatingPoint
{
    public required string Label { get; init; }
    public required float Threshold { get; init; }
    public required int Good { get; init; }
    public required int FalseRejects { get; init; }
    public double? FalseRejectRate => Good == 0 ? null : (double)FalseRejects / Good;
    public required int Defective { get; init; }
    public required int Escapes { get; init; }
    public double? EscapeRate => Defective == 0 ? null : (double)Escapes / Defective;
    /// <summary>Of the parts rejected, the share that were defective; null when nothing was rejected.</summary>
    public double? Precision => Defective - Escapes + FalseRejects == 0 ? null : (double)(Defective - Escapes) / (Defective - Escapes + FalseRejects);
    /// <summary>Of the defective parts, the share rejected.</summary>
    public double? Recall => Defective == 0 ? null : (double)(Defective - Escapes) / Defective;
    public required SortedDictionary<string, DefectEscapes> PerDefect { get; init; }

    public sealed record DefectEscapes(int Count, int Escapes)
    {
        public double? EscapeRate => Count == 0 ? null : (double)Escapes / Count;
    }

    /// <summary>
    /// The operating point of <paramref name="threshold"/>: <paramref name="defectTypes"/>[i] is the defect
    /// type of image i, or null for a good one. A score that is not a finite number counts as rejected.
    /// </summary>
    public static OperatingPoint At(string label, float threshold, IReadOnlyList<float> scores, IReadOnlyList<string?> defectTypes)
    {
        if (scores.Count != defectTypes.Count) throw new ArgumentException("one defect type (or null) per score is needed");
        int good = 0, falseRejects = 0, defective = 0, escapes = 0;
        var perDefect = new SortedDictionary<string, (int Count, int Escapes)>(StringComparer.Ordinal);
        for (int i = 0; i < scores.Count; i++)
        {
            bool rejected = Scoring.Judge.Of(scores[i], threshold) != Scoring.Judgement.Ok;
            if (defectTypes[i] is not { } type)
            {
                good++;
                if (rejected) falseRejects++;
                continue;
            }
            defective++;
            var (count, missed) = perDefect.GetValueOrDefault(type);
            perDefect[type] = (count + 1, missed + (rejected ? 0 : 1));
            if (!rejected) escapes++;
        }
        return new OperatingPoint
        {
            Label = label, Threshold = threshold, Good = good, FalseRejects = falseRejects, Defective = defective, Escapes = escapes,
            PerDefect = new(perDefect.ToDictionary(kv => kv.Key, kv => new DefectEscapes(kv.Value.Count, kv.Value.Escapes)), StringComparer.Ordinal),
        };
    }
}
