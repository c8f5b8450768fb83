using System.Globalization;
using System.Text;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Evaluation;
using EdgePatchCore.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using EdgePatchCore.Scoring;

namespace EdgePatchCore.Trainer.Reports;

/// <summary>
/// `trainer evaluate --report FILE`: one self-contained HTML page (images as data URIs, charts as inline SVG,
/// styles inline, no script, nothing fetched), so it opens from a USB stick on a plant PC. In order: the model
/// card; what the calibrated threshold does (false rejects, escapes per defect type); the threshold-free metrics;
/// the score histograms with both thresholds, the image ROC and the PRO curve; a gallery of every false reject and
/// escape, then the highest-scoring defects and good images, each with its heat map and mask outline. A thumbnail
/// opens at full size in place (CSS :target); the full-size images load lazily, when first shown, so a report with
/// hundreds of them opens as fast as its thumbnails.
/// </summary>
public sealed class EvaluationReportPage(ImageLoader loader)
{
    /// <summary>How many of the highest-scoring defective and good images the last gallery sections show.</summary>
    public const int TopCount = 12;
    private const int FullSizeLimit = 640; // the original image in the full-size view, longest side

    private readonly StringBuilder _html = new();
    private int _figure;

    public string Render(Artifact artifact, EvaluationResult result, string dataset)
    {
        var report = result.Report;
        var content = artifact.Content;
        float threshold = content.Scoring.Threshold;
        _html.Clear();
        _html.Append(ReportHtml.Head($"{report.Product}: evaluation of {artifact.Id}"));
        _html.Append("<h1>").Append(E(report.Product)).Append(": evaluation of model ").Append(E(artifact.Id)).Append("</h1>");
        _html.Append("<p class=\"muted\">test set ").Append(E(dataset)).Append($", {report.Images.Good} good and {report.Images.Defective} " +
            $"defective images, ")
             .Append(E(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))).Append("</p>");

        _html.Append(ReportHtml.ModelCard(artifact));
        if (report.AtThreshold is { } at) OperatingPointTable(at, "At the artifact's calibrated threshold (what the agent does)", "calibrated");
        if (report.Review is { } review) ReviewBandTable(review);
        Metrics(report);
        Charts(result, threshold, report.F1Threshold);
        if (report.AtF1Threshold is { } f1)
            OperatingPointTable(f1, "At the F1-optimal threshold (chosen with the test labels, which a plant does not have)", "f1");
        Gallery(result, result.MapGeometry, threshold);
        _html.Append("</body></html>");
        return _html.ToString();
    }

    private void OperatingPointTable(OperatingPoint p, string title, string id)
    {
        _html.Append($"<h2 id=\"{id}\">").Append(E(title)).Append("</h2>");
        _html.Append($"<p>threshold <b>{p.Threshold:G5}</b>: a part is rejected at or above " +
            $"it.</p><table><tr><th></th><th>rate</th><th>count</th></tr>");
        Row("false rejects", p.FalseRejectRate, $"{p.FalseRejects} of {p.Good} good parts");
        Row("escapes", p.EscapeRate, $"{p.Escapes} of {p.Defective} defective parts");
        foreach (var (type, d) in p.PerDefect) Row("escapes: " + type, d.EscapeRate, $"{d.Escapes} of {d.Count}");
        Row("precision", p.Precision, "");
        Row("recall", p.Recall, "");
        _html.Append("</table>");

        void Row(string name, double? rate, string count) =>
            _html.Append("<tr><td>").Append(E(name)).Append("</td><td class=\"num\">").Append(rate is { } r ? r.ToString("P1",
                CultureInfo.InvariantCulture) : "n/a")
                 .Append("</td><td>").Append(E(count)).Append("</td></tr>");
    }

    private void ReviewBandTable(ReviewBandReport b)
    {
        _html.Append("<h2 id=\"review\">REVIEW band</h2>").Append($"<p>Parts scoring in [<b>{b.From:G5}</b>, {b.Threshold:G5}) go to an operator " +
            $"instead of passing (the band's edge: the {1 - b.Rate:P0} quantile of the out-of-fold good scores; Agent:ReviewRate " +
            $"{b.Rate.ToString(CultureInfo.InvariantCulture)}).</p>");
        _html.Append("<table><tr><th></th><th>in the band</th></tr>")
             .Append($"<tr><td>good parts</td><td>{b.GoodInBand} of {b.Good}</td></tr>")
             .Append($"<tr><td>defects (escapes caught for review)</td><td>{b.DefectsInBand} of {b.Defective}</td></tr>");
        foreach (var (type, n) in b.DefectsInBandByType) _html.Append("<tr><td>&nbsp;&nbsp;").Append(E(type)).Append($"</td><td>{n}</td></tr>");
        _html.Append("</table><h3>Closest calls</h3><table><tr><th>side</th><th>image</th><th>truth</th><th>score</th></tr>");
        foreach (var (side, calls) in new[] { ("below (passed or review)", b.Below), ("at or above (rejected)", b.Above) })
            foreach (var c in calls)
                _html.Append("<tr><td>").Append(side).Append("</td><td>").Append(E(Path.GetFileName(c.Image))).Append("</td><td>").Append(E(c.Label))
                     .Append($"</td><td class=\"num\">{c.Score:G5}</td></tr>");
        _html.Append("</table>");
    }

    private void Metrics(EvaluationReport r)
    {
        static string F(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";
        _html.Append("<h2>Threshold-free metrics</h2><table><tr><th></th><th>images</th><th>image AUROC</th><th>pixel AUROC</th><th>PRO (FPR &le; " +
            "0.3)</th></tr>");
        _html.Append($"<tr><td>all</td><td class=\"num\">{r.Images.Good + r.Images.Defective}</td><td class=\"num\">{F(r.ImageAuroc)}</td><td " +
            $"class=\"num\">{F(r.PixelAuroc)}</td><td class=\"num\">{F(r.Pro)}</td></tr>");
        foreach (var (type, m) in r.PerDefect)
            _html.Append("<tr><td>").Append(E(type)).Append($"</td><td class=\"num\">{m.Count}</td><td class=\"num\">{F(m.ImageAuroc)}</td><td " +
                $"class=\"num\">{F(m.PixelAuroc)}</td><td class=\"num\">{F(m.Pro)}</td></tr>");
        _html.Append("</table>");
        foreach (var p in r.PixelMetrics)
            _html.Append("<p class=\"muted\">masks '").Append(E(p.MaskProtocol)).Append($"': {p.Regions} defect regions, pixel AUROC " +
                $"{F(p.PixelAuroc)}, PRO {F(p.Pro)}</p>");
    }

    private void Charts(EvaluationResult result, float threshold, float? f1Threshold)
    {
        _html.Append("<h2>Scores and curves</h2><div class=\"charts\">");
        _html.Append(Figure(Histogram(result.Images, threshold, f1Threshold),
            "Image scores of good parts and of each defect type; the calibrated threshold (black) and the F1-optimal one (grey dashes, needs " +
                "labels)."));
        _html.Append(Figure(Roc(result.Images), "Image ROC: share of defects caught against share of good parts rejected, over every threshold."));
        if (result.ProCurve.Count > 1)
            _html.Append(Figure(ProPlot(result.ProCurve),
                "Per-region overlap against the false-positive rate of defect-free pixels, up to 0.3 (PRO is the area, normalised)."));
        _html.Append("</div>");
    }

    private string Figure(string svg, string caption) =>
        $"<figure id=\"figure-{++_figure}\">{svg}<figcaption>{E(caption)}</figcaption></figure>";

    private static string Histogram(IReadOnlyList<EvaluatedImage> images, float threshold, float? f1Threshold)
    {
        var scores = images.Select(i => (double)i.Score.Score).Where(double.IsFinite).ToList();
        double lo = Math.Min(scores.DefaultIfEmpty(0).Min(), threshold), hi = Math.Max(scores.DefaultIfEmpty(1).Max(), threshold);
        if (hi <= lo) hi = lo + 1;
        const int bins = 40;
        double width = (hi - lo) / bins;
        var plot = new ScottPlot.Plot();
        foreach (var group in images.GroupBy(i => i.DefectType).OrderBy(g => g.Key == Datasets.DatasetFolder.GoodType ? 0 : 1).ThenBy(g => g.Key,
            StringComparer.Ordinal))
        {
            var counts = new double[bins + 1];
            foreach (var i in group)
                if (double.IsFinite(i.Score.Score)) counts[Math.Clamp((int)((i.Score.Score - lo) / width), 0, bins - 1)]++;
            counts[bins] = counts[bins - 1];
            var xs = Enumerable.Range(0, bins + 1).Select(b => lo + b * width).ToArray();
            var line = plot.Add.Scatter(xs, counts);
            line.ConnectStyle = ScottPlot.ConnectStyle.StepHorizontal;
            line.MarkerSize = 0;
            line.LineWidth = group.Key == Datasets.DatasetFolder.GoodType ? 3 : 1.5f;
            line.LegendText = $"{group.Key} ({group.Count()})";
        }
        var calibrated = plot.Add.VerticalLine(threshold);
        calibrated.Color = ScottPlot.Colors.Black;
        calibrated.LineWidth = 2.5f;
        calibrated.LegendText = $"calibrated {threshold:G4}";
        if (f1Threshold is { } f1)
        {
            var optimal = plot.Add.VerticalLine(f1);
            optimal.Color = ScottPlot.Colors.Gray;
            optimal.LinePattern = ScottPlot.LinePattern.Dashed;
            optimal.LegendText = $"F1-optimal {f1:G4}";
        }
        plot.XLabel("image score");
        plot.YLabel("images");
        plot.ShowLegend();
        return plot.GetSvgHtml(640, 400);
    }

    private static string Roc(IReadOnlyList<EvaluatedImage> images)
    {
        var ordered = images.OrderByDescending(i => i.Score.Score).ToList();
        int positives = ordered.Count(i => i.IsDefective), negatives = ordered.Count - positives;
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        int tp = 0, fp = 0;
        for (int k = 0; k < ordered.Count;)
        {
            int j = k;
            while (j < ordered.Count && ordered[j].Score.Score == ordered[k].Score.Score) { if (ordered[j].IsDefective) tp++; else fp++; j++; }
            fpr.Add(negatives == 0 ? 0 : (double)fp / negatives);
            tpr.Add(positives == 0 ? 0 : (double)tp / positives);
            k = j;
        }
        var plot = new ScottPlot.Plot();
        var line = plot.Add.ScatterLine(fpr.ToArray(), tpr.ToArray());
        line.LineWidth = 2;
        plot.XLabel("good parts rejected (FPR)");
        plot.YLabel("defects caught (TPR)");
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        return plot.GetSvgHtml(400, 400);
    }

    private static string ProPlot(IReadOnlyList<(double Fpr, double Pro)> curve)
    {
        var plot = new ScottPlot.Plot();
        var line = plot.Add.ScatterLine(curve.Select(p => p.Fpr).ToArray(), curve.Select(p => p.Pro).ToArray());
        line.LineWidth = 2;
        plot.XLabel("false-positive rate of defect-free pixels");
        plot.YLabel("per-region overlap");
        plot.Axes.SetLimits(0, 0.3, 0, 1.02);
        return plot.GetSvgHtml(400, 400);
    }

    private void Gallery(EvaluationResult result, InputSpec spec, float threshold)
    {
        var images = result.Images;
        bool Rejected(EvaluatedImage i) => Scoring.Judge.Of(i.Score.Score, threshold) != Scoring.Judgement.Ok;
        var falseRejects = images.Where(i => !i.IsDefective && Rejected(i)).OrderByDescending(i => i.Score.Score).ToList();
        var escapes = images.Where(i => i.IsDefective && !Rejected(i)).OrderBy(i => i.Score.Score).ToList();
        var topDefects = images.Where(i => i.IsDefective).OrderByDescending(i => i.Score.Score).Take(TopCount).ToList();
        var topGood = images.Where(i => !i.IsDefective).OrderByDescending(i => i.Score.Score).Take(TopCount).ToList();
        _html.Append("<h2>Gallery</h2><p class=\"muted\">Heat map: jet colours, full red at 1.5 x the threshold; the ground-truth mask outlined in " +
            "white. Click an image for full size.</p>");
        Section("gallery-false-rejects", $"False rejects at the calibrated threshold ({falseRejects.Count})", falseRejects, spec, threshold);
        Section("gallery-escapes", $"Escapes at the calibrated threshold ({escapes.Count}), lowest scores first", escapes, spec, threshold);
        Section("gallery-top-defects", $"Highest-scoring defective images ({topDefects.Count})", topDefects, spec, threshold);
        Section("gallery-top-good", $"Highest-scoring good images ({topGood.Count})", topGood, spec, threshold);
    }

    private int _tile;

    private void Section(string id, string title, IReadOnlyList<EvaluatedImage> images, InputSpec spec, float threshold)
    {
        _html.Append($"<h3 id=\"{id}\">").Append(E(title)).Append("</h3>");
        if (images.Count == 0) { _html.Append("<p class=\"muted\">none</p>"); return; }
        _html.Append($"<div class=\"gallery\" data-section=\"{id}\">");
        foreach (var image in images)
        {
            string tileId = $"image-{++_tile}";
            string label = $"{image.DefectType}/{Path.GetFileName(image.Path)}";
            string scoreText = $"score {image.Score.Score:G4} / threshold {threshold:G4}";
            try
            {
                using var frame = loader.Decode(image.Path);
                using var overlay = HeatmapRenderer.Render(frame, spec, image.Score, threshold, image.Path);
                if (image.Mask is { } mask) Outline(overlay, mask);
                // A tiled model's map is at the scaled frame's size (megapixels): the page shows it at most FullSizeLimit wide.
                if (overlay.Width > FullSizeLimit || overlay.Height > FullSizeLimit)
                    overlay.Mutate(x => x.Resize(new ResizeOptions { Size = new Size(FullSizeLimit, FullSizeLimit),
                        Mode = SixLabors.ImageSharp.Processing.ResizeMode.Max }));
                string overlayUri = ReportHtml.Jpeg(overlay);
                using var original = frame.Clone(x => x.Resize(new ResizeOptions { Size = new Size(FullSizeLimit, FullSizeLimit),
                    Mode = SixLabors.ImageSharp.Processing.ResizeMode.Max }));
                _html.Append("<div class=\"tile\"><a href=\"#").Append(tileId).Append("\"><img class=\"thumb\" " +
                    "alt=\"").Append(E(label)).Append("\" src=\"").Append(overlayUri).Append("\"></a>")
                     .Append("<div class=\"caption\">").Append(E(label)).Append("<br>").Append(E(scoreText)).Append("</div>")
                     .Append("<div class=\"full\" id=\"").Append(tileId).Append("\"><a class=\"close\" href=\"#").Append(id).Append("\">close</a>")
                     .Append("<img class=\"overlay\" loading=\"lazy\" alt=\"heat map of ").Append(E(label)).Append("\" " +
                         "src=\"").Append(overlayUri).Append("\">")
                     .Append("<img loading=\"lazy\" alt=\"").Append(E(label)).Append("\" src=\"").Append(ReportHtml.Jpeg(original)).Append("\">")
                     .Append("<p>").Append(E(label + ", " + scoreText)).Append("</p></div></div>");
            }
            catch (ImageLoadException e)
            {
                _html.Append("<div class=\"tile\"><div class=\"caption\">").Append(E(label)).Append("<br>not shown: " +
                    "").Append(E(e.Message)).Append("</div></div>");
            }
        }
        _html.Append("</div>");
    }

    /// <summary>Marks mask pixels that touch a non-mask pixel (4-neighbourhood) in white; the mask is at the input size.</summary>
    private static void Outline(Image<Rgb24> image, byte[] mask)
    {
        int w = image.Width, h = image.Height;
        if (mask.Length != w * h) return;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < h; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < w; x++)
                {
                    if (mask[y * w + x] == 0) continue;
                    bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1
                                || mask[y * w + x - 1] == 0 || mask[y * w + x + 1] == 0 || mask[(y - 1) * w + x] == 0 || mask[(y + 1) * w + x] == 0;
                    if (edge) row[x] = new Rgb24(255, 255, 255);
                }
            }
        });
    }

    private static string E(string text) => ReportHtml.E(text);
}
