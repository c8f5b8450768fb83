using System.Globalization;
using System.Text;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Calibration;
using EdgePatchCore.Training;

namespace EdgePatchCore.Trainer.Reports;

/// <summary>
/// `trainer build --report FILE`: one self-contained HTML page about how a model was built: the model card; the
/// threshold's scores (out-of-fold or calibration folder) against the fitted log-normal tail, with the target
/// rate and the threshold; the coverage radius over the coreset's selection steps; the cross-fitting folds;
/// the time of each build phase; the images that were skipped and why.
/// </summary>
public sealed class BuildReportPage
{
    public string Render(Artifact artifact, BuildResult build)
    {
        var html = new StringBuilder(ReportHtml.Head($"{artifact.Content.Manifest.Product}: build of {artifact.Id}"));
        var m = artifact.Content.Manifest;
        html.Append("<h1>").Append(E(m.Product)).Append(": build of model ").Append(E(artifact.Id)).Append("</h1>");
        html.Append(ReportHtml.ModelCard(artifact));

        if (artifact.Content.Calibration is { } calibration)
        {
            html.Append("<h2 id=\"threshold\">Threshold</h2>");
            int atOrAbove = calibration.SortedScores.Count(s => s >= calibration.Threshold);
            html.Append("<p>").Append(E($"{calibration.SortedScores.Length} scores of good images the bank had not seen " +
                $"({(build.Folds.Count > 0 ? $"out of fold, {build.Folds.Count} folds" : "calibration folder")}): " +
                $"{calibration.SortedScores[0]:G4} to {calibration.SortedScores[^1]:G4}, mean {calibration.Mean:G4}, sd {calibration.Std:G4}. " +
                $"Threshold {calibration.Threshold:G5} for a {calibration.TargetFalseRejectRate:P1} false-reject target; " +
                $"{atOrAbove} of the scores reach it. {calibration.Method}.")).Append("</p>");
            html.Append(Figure(Tail(calibration),
                "Share of good images scoring at or above each score (log scale): the scores (dots), the fitted log-normal (line), the target rate " +
                    "and the threshold."));
        }

        html.Append("<h2 id=\"coreset\">Coreset</h2><p>").Append(E($"{artifact.Content.Bank.Rows:N0} of {m.TrainingPatchCount:N0} patches; " +
            $"coverage radius {build.Coreset.CoverageRadius:G5} in the 128-d projection; {build.Coreset.PrunedShare:P0} of the row data never " +
                $"needed reading.")).Append("</p>");
        if (build.Coreset.RadiusTrace.Count > 1)
            html.Append(Figure(Radius(build.Coreset.RadiusTrace),
                "Coverage radius (the farthest training patch from the chosen rows) as rows are chosen."));

        if (build.Folds.Count > 0)
        {
            html.Append("<h2 id=\"folds\">Cross-fitting folds</h2><table><tr><th>fold</th><th>images</th><th>bank rows kept</th><th>rows " +
                "added</th></tr>");
            for (int f = 0; f < build.Folds.Count; f++)
            {
                var fold = build.Folds[f];
                html.Append($"<tr><td>{f + 1}</td><td class=\"num\">{fold.Images.Length}</td><td class=\"num\">{fold.KeptRows:N0}</td><td " +
                    $"class=\"num\">{fold.AddedRows:N0}</td></tr>");
            }
            html.Append("</table>");
        }

        html.Append("<h2 id=\"phases\">Build phases</h2><table><tr><th>phase</th><th>seconds</th><th>peak memory (GiB)</th></tr>");
        foreach (var phase in build.Phases) html.Append("<tr><td>").Append(E(phase.Name)).Append("</td><td " +
            "class=\"num\">").Append(phase.Seconds.ToString("F1", CultureInfo.InvariantCulture)).Append("</td><td class=\"num\">")
            .Append((phase.PeakBytes / (1024.0 * 1024 * 1024)).ToString("F2", CultureInfo.InvariantCulture)).Append("</td></tr>");
        html.Append("<tr><th>total</th><th class=\"num\">").Append(m.BuildSeconds.ToString("F1",
            CultureInfo.InvariantCulture)).Append("</th><th class=\"num\">").Append((build.Phases.Select(p => p.PeakBytes).DefaultIfEmpty()
            .Max() / (1024.0 * 1024 * 1024)).ToString("F2", CultureInfo.InvariantCulture)).Append("</th></tr></table>");
        html.Append("<p class=\"muted\">device: ").Append(E(build.Device)).Append("</p>");

        html.Append($"<h2 id=\"skipped\">Skipped images ({build.Skipped.Count})</h2>");
        if (build.Skipped.Count == 0) html.Append("<p class=\"muted\">none</p>");
        else
        {
            html.Append("<table><tr><th>file</th><th>reason</th></tr>");
            foreach (var s in build.Skipped)
                html.Append("<tr><td>").Append(E(Path.GetFileName(s.Path))).Append("</td><td>").Append(E(s.Reason)).Append("</td></tr>");
            html.Append("</table>");
        }
        return html.Append("</body></html>").ToString();
    }

    private static string Figure(string svg, string caption) => $"<figure>{svg}<figcaption>{E(caption)}</figcaption></figure>";

    /// <summary>Empirical survival of the scores and the fitted log-normal's, on a log axis (ScottPlot plots log10 values).</summary>
    private static string Tail(CalibrationSummary c)
    {
        var scores = c.SortedScores;
        int n = scores.Length;
        var (mu, sigma) = ThresholdCalibrator.LogNormalFit(scores);
        var plot = new ScottPlot.Plot();
        var empirical = plot.Add.ScatterPoints(scores.Select(s => (double)s).ToArray(),
                                               Enumerable.Range(0, n).Select(i => Math.Log10((double)(n - i) / n)).ToArray());
        empirical.LegendText = "scores";
        double lo = scores[0], hi = Math.Max(scores[^1], c.Threshold) * 1.05;
        var xs = Enumerable.Range(0, 200).Select(k => lo + (hi - lo) * k / 199).ToArray();
        var fitted = plot.Add.ScatterLine(xs, xs.Select(x => Math.Log10(Math.Max(1e-9,
            1 - ThresholdCalibrator.NormalCdf((Math.Log(x) - mu) / Math.Max(sigma, 1e-12))))).ToArray());
        fitted.LegendText = "log-normal fit";
        var target = plot.Add.HorizontalLine(Math.Log10(c.TargetFalseRejectRate));
        target.LegendText = $"target {c.TargetFalseRejectRate:P1}";
        target.LinePattern = ScottPlot.LinePattern.Dashed;
        var threshold = plot.Add.VerticalLine(c.Threshold);
        threshold.Color = ScottPlot.Colors.Black;
        threshold.LineWidth = 2.5f;
        threshold.LegendText = $"threshold {c.Threshold:G4}";
        plot.Axes.SetLimitsY(Math.Log10(Math.Min(0.5 / n, c.TargetFalseRejectRate / 3)), 0.1);
        plot.XLabel("image score");
        plot.YLabel("log10 share at or above");
        plot.ShowLegend();
        return plot.GetSvgHtml(640, 400);
    }

    private static string Radius(IReadOnlyList<(int Rows, float Radius)> trace)
    {
        var plot = new ScottPlot.Plot();
        var line = plot.Add.ScatterLine(trace.Select(t => (double)t.Rows).ToArray(), trace.Select(t => (double)t.Radius).ToArray());
        line.LineWidth = 2;
        plot.XLabel("bank rows chosen");
        plot.YLabel("coverage radius (projection units)");
        return plot.GetSvgHtml(640, 400);
    }

    private static string E(string text) => ReportHtml.E(text);
}
