namespace EdgePatchCore.Calibration;

/// <summary>
/// The REVIEW band below the reject threshold: parts scoring in [review threshold, reject threshold) are neither passed nor rejected
/// blindly but sent to an operator. Its lower edge comes from the same out-of-fold good scores as the reject threshold, at a higher
/// false-reject rate (e.g. 5%: about one good part in twenty lands in the band or above). One definition for the agent and trainer evaluate.
/// </summary>
public static class ReviewBand
{
    /// <summary>
    /// The band's lower edge for <paramref name="rate"/> (0: no band), below <paramref name="rejectThreshold"/>; null when there is no band
    /// (rate 0, no calibration scores in the artifact, or the quantile is not below the reject threshold).
    /// </summary>
    public static float? Threshold(CalibrationSummary? calibration, float rejectThreshold, double rate)
    {
        if (rate <= 0 || calibration is not { SortedScores.Length: > 0 } c || !float.IsFinite(rejectThreshold)) return null;
        float edge = ThresholdCalibrator.Calibrate(c.SortedScores, rate).Threshold;
        return edge < rejectThreshold ? edge : null;
    }
}
