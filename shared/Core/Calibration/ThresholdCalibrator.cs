using MessagePack;

namespace EdgePatchCore.Calibration;

/// <summary>
/// Picks a threshold from scores of good images the bank has not seen (docs/ACCURACY.md, "The threshold").
/// Image scores of good parts are positive and right-skewed, so a log-normal is fitted to them and the threshold
/// is the (1 - rate) quantile of that fit, but never below the empirical one: at most floor(rate x n) of the n
/// calibration scores reach it. Where the tail is heavier than a log-normal, the empirical quantile holds the
/// false-reject rate near the target; with few scores (rate x n &lt; 1) it is the largest score, just above.
/// A verdict is "defect" at score >= threshold.
/// </summary>
public static class ThresholdCalibrator
{
    /// <summary>Fewer good-image scores than this cannot show a 1% false-reject rate (at 1% of 50, the empirical quantile is the largest score or
    /// next to it): the build warns.</summary>
    public const int MinScoresForTarget = 50;

    public static CalibrationSummary Calibrate(IReadOnlyList<float> scores, double falseRejectRate)
    {
        if (scores.Count == 0) throw new ArgumentException("no calibration scores");
        if (falseRejectRate is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(falseRejectRate), "must be between 0 and 1");
        var sorted = scores.OrderBy(s => s).ToArray();
        double mean = sorted.Average(s => (double)s);
        double std = Math.Sqrt(sorted.Sum(s => (s - mean) * (s - mean)) / Math.Max(1, sorted.Length - 1));
        var (mu, sigma) = LogNormalFit(sorted);
        double fit = Math.Exp(mu + NormalQuantile(1 - falseRejectRate) * sigma);
        float threshold = (float)Math.Max(fit, EmpiricalQuantile(sorted, falseRejectRate));
        return new CalibrationSummary
        {
            SortedScores = sorted,
            Mean = mean,
            Std = std,
            TargetFalseRejectRate = falseRejectRate,
            Threshold = threshold,
            Method = $"log-normal tail fit on {sorted.Length} good images, floor = empirical {1 - falseRejectRate:0.###} quantile",
        };
    }

    /// <summary>The log-normal fitted to the scores: mean and standard deviation of their logarithms.</summary>
    public static (double Mu, double Sigma) LogNormalFit(IReadOnlyList<float> scores)
    {
        var logs = scores.Select(s => Math.Log(Math.Max(s, 1e-12))).ToArray();
        double mu = logs.Average();
        return (mu, Math.Sqrt(logs.Sum(l => (l - mu) * (l - mu)) / Math.Max(1, logs.Length - 1)));
    }

    /// <summary>Standard normal CDF (Abramowitz and Stegun 26.2.17, |error| &lt; 7.5e-8).</summary>
    public static double NormalCdf(double z)
    {
        double t = 1 / (1 + 0.2316419 * Math.Abs(z));
        double d = Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);
        double p = d * t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
        return z >= 0 ? 1 - p : p;
    }

    /// <summary>The lowest threshold at which at most floor(rate x n) of the sorted scores are rejected (score >= threshold).</summary>
    public static float EmpiricalQuantile(ReadOnlySpan<float> sorted, double falseRejectRate)
    {
        int allowed = Math.Min(sorted.Length - 1, (int)Math.Floor(falseRejectRate * sorted.Length + 1e-9));
        return MathF.BitIncrement(sorted[sorted.Length - 1 - allowed]);
    }

    /// <summary>Inverse of the standard normal CDF (Acklam's rational approximation, |error| &lt; 1.2e-9).</summary>
    public static double NormalQuantile(double p)
    {
        if (p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p));
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
            2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
            2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425, high = 1 - low;
        if (p < low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > high)
        {
            double q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        double r = p - 0.5, s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s
            + b[4]) * s + 1);
    }
}
