using EdgePatchCore.Evaluation;

namespace EdgePatchCore.Tests.Evaluation;

public class MetricsTests
{
    [Fact]
    public void Auroc_perfect_separation_is_one_and_reversed_is_zero()
    {
        Assert.Equal(1.0, Metrics.Auroc([0.1f, 0.2f, 0.8f, 0.9f], [false, false, true, true]));
        Assert.Equal(0.0, Metrics.Auroc([0.9f, 0.8f, 0.2f, 0.1f], [false, false, true, true]));
    }

    [Fact]
    public void Auroc_hand_computed_with_one_misordered_pair()
    {
        // Positives {0.35, 0.8}, negatives {0.1, 0.4}: pairs (pos > neg) = 0.35>0.1, 0.8>0.1, 0.8>0.4 = 3 of 4.
        Assert.Equal(0.75, Metrics.Auroc([0.1f, 0.4f, 0.35f, 0.8f], [false, false, true, true])!.Value, 12);
    }

    [Fact]
    public void Auroc_counts_ties_as_half()
    {
        // Positives {0.5, 0.9}, negatives {0.5, 0.1}: pairs: 0.5 vs 0.5 tie (0.5), 0.5>0.1, 0.9>0.5, 0.9>0.1 -> 3.5 / 4.
        Assert.Equal(0.875, Metrics.Auroc([0.5f, 0.9f, 0.5f, 0.1f], [true, true, false, false])!.Value, 12);
        // All scores equal: chance level.
        Assert.Equal(0.5, Metrics.Auroc([1f, 1f, 1f, 1f, 1f], [true, false, true, false, false])!.Value, 12);
    }

    [Fact]
    public void Auroc_is_null_when_a_class_is_missing()
    {
        Assert.Null(Metrics.Auroc([0.1f, 0.2f], [false, false]));
        Assert.Null(Metrics.Auroc([0.1f, 0.2f], [true, true]));
    }

    [Fact]
    public void Auroc_matches_mann_whitney_on_random_data_with_ties()
    {
        var rng = new Random(7);
        var scores = Enumerable.Range(0, 300).Select(_ => (float)rng.Next(20)).ToArray(); // many ties
        var labels = Enumerable.Range(0, 300).Select(_ => rng.NextDouble() < 0.3).ToArray();
        double wins = 0;
        int pos = labels.Count(l => l), neg = labels.Length - pos;
        for (int i = 0; i < scores.Length; i++)
            for (int j = 0; j < scores.Length; j++)
                if (labels[i] && !labels[j]) wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
        Assert.Equal(wins / ((double)pos * neg), Metrics.Auroc(scores, labels)!.Value, 10);
    }

    [Fact]
    public void Pro_on_a_small_hand_made_case()
    {
        // One 4x1 image: pixels [a, b | c, d] = scores [4, 3, 2, 1]. Regions: {0} and {1,2}? Make two regions:
        // mask 1 0 1 1 -> region A = {0}, region B = {2,3}; negative = {1}.
        // Thresholds descending: after 4: A covered 1/1, B 0/2 -> PRO 0.5, FPR 0.
        // after 3: negative hit -> FPR 1, PRO 0.5. So with maxFpr = 0.3 the curve is flat at 0.5 on [0, 0.3]:
        // normalised area = 0.5.
        var map = new float[] { 4, 3, 2, 1 };
        var mask = new byte[] { 1, 0, 1, 1 };
        var (auroc, pro) = Metrics.PixelMetrics([map], [mask], width: 4, height: 1, maxFpr: 0.3);
        Assert.Equal(0.5, pro!.Value, 12);
        // Pixel AUROC: positives {4,2,1} vs negative {3}: 1 of 3 above -> 1/3.
        Assert.Equal(1.0 / 3, auroc!.Value, 12);
    }

    [Fact]
    public void Pro_interpolates_the_curve_up_to_the_fpr_limit()
    {
        // Two images 2x2. Image 1 fully defective region of 4 pixels with scores 9,8,7,6 (one region).
        // Image 2 good, scores 10, 5, 5, 0 (4 negatives).
        // Descending: 10 (neg): FPR .25, PRO 0; 9..6: PRO rises to 1 at FPR .25; then 5,5: FPR .75; 0: FPR 1.
        // Curve: (0,0) -> (.25, 0) -> (.25, 1) -> ... With maxFpr = .5: area = .25 * 0 + .25 * 1 = .25 -> /.5 = .5.
        var (_, pro) = Metrics.PixelMetrics([new float[] { 9, 8, 7, 6 }, new float[] { 10, 5, 5, 0 }],
                                            [new byte[] { 1, 1, 1, 1 }, null], 2, 2, maxFpr: 0.5);
        Assert.Equal(0.5, pro!.Value, 12);
    }

    [Fact]
    public void Pro_weights_regions_equally_not_by_area()
    {
        // A large region detected, a small one missed: PRO = 0.5 regardless of their sizes.
        // Scores: big region (8 px) = 10, small region (1 px) = 0, negatives = 5.
        var map = new float[16];
        var mask = new byte[16];
        for (int i = 0; i < 8; i++) { map[i] = 10; mask[i] = 1; }
        map[15] = 0; mask[15] = 1;                   // isolated single pixel (not 8-connected to the big one)
        for (int i = 8; i < 15; i++) map[i] = 5;
        var (_, pro) = Metrics.PixelMetrics([map], [mask], 4, 4, maxFpr: 0.3);
        Assert.Equal(0.5, pro!.Value, 12);
    }

    [Fact]
    public void Connected_components_use_eight_connectivity()
    {
        // Diagonal neighbours join; a separate pixel is its own region.
        byte[] mask = [1, 0, 0,
                       0, 1, 0,
                       0, 0, 0,
                       1, 0, 0];
        var labels = new int[12];
        var sizes = ConnectedComponents.Label(mask, 3, 4, labels);
        Assert.Equal([2, 1], sizes);
        Assert.Equal(labels[0], labels[4]);
        Assert.NotEqual(labels[0], labels[9]);
        Assert.Equal(-1, labels[1]);
    }

    [Fact]
    public void F1_optimal_threshold_and_misclassified_count()
    {
        // Scores: good 0.1 0.2 0.6, defective 0.5 0.7 0.9.
        // t = 0.7: TP 2, FP 0, FN 1 -> F1 0.8; t = 0.5: TP 3, FP 1 -> F1 6/7 = 0.857 (best); misclassified 1.
        var r = Metrics.F1Optimal([0.1f, 0.2f, 0.6f, 0.5f, 0.7f, 0.9f], [false, false, false, true, true, true])!.Value;
        Assert.Equal(0.5f, r.Threshold);
        Assert.Equal(6.0 / 7, r.F1, 12);
        Assert.Equal(1, r.Misclassified);
    }
}

public class PercentileTests
{
    [Fact]
    public void Nearest_rank_percentiles()
    {
        double[] values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
        Assert.Equal(5, Statistics.Percentile.Of(values, 0.5));
        Assert.Equal(10, Statistics.Percentile.Of(values, 0.95));
        Assert.Equal(1, Statistics.Percentile.Of(values, 0));
        Assert.Equal(7, Statistics.Percentile.Of([7], 0.95));
        Assert.True(double.IsNaN(Statistics.Percentile.Of([], 0.5)));
    }

    [Fact]
    public void Operating_point_counts_false_rejects_escapes_precision_and_recall()
    {
        // Good parts 1, 2, 5 and defects 4, 6 (scratch), 3, NaN (dent) against a threshold of 4: good 5 is a false
        // reject (at or above rejects), dent 3 escapes; rejected are 5, 4, 6 and NaN, three of them defective.
        float[] scores = [1, 2, 5, 4, 6, 3, float.NaN];
        string?[] types = [null, null, null, "scratch", "scratch", "dent", "dent"]; // a NaN score is rejected, never passed
        var p = OperatingPoint.At("calibrated", 4f, scores, types);
        Assert.Equal((3, 1, 4, 1), (p.Good, p.FalseRejects, p.Defective, p.Escapes));
        Assert.Equal(1 / 3.0, p.FalseRejectRate!.Value, 12);
        Assert.Equal(0.25, p.EscapeRate!.Value, 12);
        Assert.Equal(3 / 4.0, p.Precision!.Value, 12); // rejected 5, 4, 6, NaN: three defective
        Assert.Equal(3 / 4.0, p.Recall!.Value, 12);
        Assert.Equal(new OperatingPoint.DefectEscapes(2, 0), p.PerDefect["scratch"]);
        Assert.Equal(new OperatingPoint.DefectEscapes(2, 1), p.PerDefect["dent"]);
        Assert.Null(OperatingPoint.At("none", 100f, [1f], [null]).Precision); // nothing rejected
    }
}
