namespace EdgePatchCore.Scoring;

public static class Judge
{
    /// <summary>
    /// Defect at or above the threshold, ok below it, and undecidable when either is not a finite number
    /// (or the threshold is not positive): a NaN compares false with everything, so a plain comparison
    /// would pass every part. An undecidable frame is an error, never ok.
    /// </summary>
    public static Judgement Of(float score, float threshold) =>
        !float.IsFinite(score) || !float.IsFinite(threshold) || threshold <= 0 ? Judgement.Undecidable
        : score >= threshold ? Judgement.Defect : Judgement.Ok;
}
