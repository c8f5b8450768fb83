namespace EdgePatchCore.Statistics;

/// <summary>Nearest-rank percentiles for the latency figures that benchmarks, the demo and the agent's metrics print.</summary>
public static class Percentile
{
    /// <summary>The smallest value with at least <paramref name="q"/> of the values at or below it (q in 0..1); NaN when empty.</summary>
    public static double Of(IEnumerable<double> values, double q) => Many(values, q)[0];

    /// <summary>Several percentiles from one sort (e.g. p50 and p95 of the same latencies).</summary>
    public static double[] Many(IEnumerable<double> values, params double[] qs)
    {
        var sorted = values.Order().ToArray();
        return qs.Select(q => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0,
            sorted.Length - 1)]).ToArray();
    }
}
