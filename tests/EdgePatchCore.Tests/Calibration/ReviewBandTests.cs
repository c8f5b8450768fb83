using EdgePatchCore.Calibration;

namespace EdgePatchCore.Tests.Calibration;

public sealed class ReviewBandTests
{
    private static readonly CalibrationSummary Scores = ThresholdCalibrator.Calibrate(
        Enumerable.Range(0, 200).Select(i => 10f + 0.05f * i).ToArray(), 0.01);

    [Fact]
    public void The_band_lies_below_the_threshold_and_widens_with_the_rate()
    {
        float five = ReviewBand.Threshold(Scores, Scores.Threshold, 0.05)!.Value;
        float twenty = ReviewBand.Threshold(Scores, Scores.Threshold, 0.20)!.Value;
        Assert.True(five < Scores.Threshold);
        Assert.True(twenty < five);
        // At most 5% of the good scores reach the band's edge (the calibrator's empirical floor).
        Assert.True(Scores.SortedScores.Count(s => s >= five) <= 10);
    }

    [Fact]
    public void No_rate_no_scores_or_an_edge_above_the_threshold_mean_no_band()
    {
        Assert.Null(ReviewBand.Threshold(Scores, Scores.Threshold, 0));
        Assert.Null(ReviewBand.Threshold(null, Scores.Threshold, 0.05));
        Assert.Null(ReviewBand.Threshold(Scores, 5f, 0.05)); // a threshold set below the good scores on the device
    }
}
