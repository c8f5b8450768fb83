using EdgePatchCore.Calibration;

namespace EdgePatchCore.Tests.Calibration;

public class ThresholdCalibratorTests
{
    [Theory]
    [InlineData(761, 0.01, 7)]
    [InlineData(100, 0.05, 5)]
    [InlineData(30, 0.01, 0)]
    [InlineData(5, 0.5, 2)]
    public void At_most_floor_of_rate_times_n_calibration_scores_reach_the_threshold(int n, double rate, int expected)
    {
        // A tail far heavier than a log-normal: the empirical quantile must hold the rate.
        var rng = new Random(n);
        var scores = Enumerable.Range(0, n).Select(_ => (float)(1 + (rng.NextDouble() < 0.2 ? 50 * rng.NextDouble() : rng.NextDouble()))).ToArray();
        var c = ThresholdCalibrator.Calibrate(scores, rate);
        Assert.True(scores.Count(s => s >= c.Threshold) <= expected);
        Assert.Equal(expected, scores.Count(s => s >= ThresholdCalibrator.EmpiricalQuantile(c.SortedScores, rate)));
    }

    [Fact]
    public void A_log_normal_sample_gets_a_threshold_near_the_true_quantile()
    {
        // log-normal(mu 2, sigma 0.25): the 99% quantile is exp(2 + 2.3263 x 0.25) = 13.18. The fit's estimate has a
        // spread of about 1%, the empirical floor's (20 of 2000 scores above it) about 2%: three of those either side.
        var rng = new Random(1);
        var scores = Enumerable.Range(0, 2000).Select(_ =>
        {
            double z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            return (float)Math.Exp(2 + 0.25 * z);
        }).ToArray();
        var c = ThresholdCalibrator.Calibrate(scores, 0.01);
        Assert.InRange(c.Threshold, 12.4f, 14.0f);
    }

    [Theory]
    [InlineData(0.5, 0.0)]
    [InlineData(0.975, 1.959963985)]
    [InlineData(0.99, 2.326347874)]
    [InlineData(0.001, -3.090232306)]
    [InlineData(1e-6, -4.753424309)]
    [InlineData(0.9999999, 5.199337582)]
    public void The_normal_quantile_matches_tabulated_values(double p, double z)
    {
        Assert.Equal(z, ThresholdCalibrator.NormalQuantile(p), 7);
        Assert.Equal(p, ThresholdCalibrator.NormalCdf(z), 6);
    }

    [Fact]
    public void Bad_inputs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ThresholdCalibrator.Calibrate([], 0.01));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThresholdCalibrator.Calibrate([1f], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThresholdCalibrator.NormalQuantile(1));
    }
}
