using Microsoft.Extensions.Logging;
using EdgePatchCore.Diagnostics;
using System.Globalization;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Datasets;
using EdgePatchCore.Evaluation;
using EdgePatchCore.FileSystem;
using EdgePatchCore.Scoring;
using EdgePatchCore.Trainer.Cli;
using EdgePatchCore.Devices;

namespace EdgePatchCore.Trainer.Commands;

public sealed class EvaluateCommand : ICommand
{
    public string Name => "evaluate";
    public string Summary => "measure a model on a labelled test set (image AUROC, pixel AUROC, PRO)";
    public string Usage => "P.pcb --data DIR [--json FILE] [options]";
    public string Description =>
        "DIR is an MVTec-layout folder: test/good, test/<defect>, ground_truth/<defect>/<stem>_mask.png.\n" +
        "Prints the metrics overall and per defect type; --json writes them as JSON too.";

    public IReadOnlyList<OptionSpec> Options { get; } =
    [
        new("data", "labelled test set (MVTec layout)", "DIR"),
        new("json", "also write the report as JSON", "FILE"),
        new("report", "also write a self-contained HTML report (model card, operating point, charts, gallery of false rejects and escapes)",
            "FILE.html"),
        new("mask-protocol",
            "defect pixels of a resized mask: ours (half covered), official (fully covered, as the official PatchCore code), or both", "P", "ours"),
        new("review-rate", "show the REVIEW band whose edge is this false-reject quantile of the artifact's out-of-fold good scores (0: none; " +
            "the agent's Agent:ReviewRate)", "R", "0.05"),
        new("dump-maps", "write the anomaly maps and masks behind the pixel metrics as raw files (to recompute them elsewhere)", "DIR"),
        CommonOptions.Batch,
        CommonOptions.Device,
        CommonOptions.Precision,
        CommonOptions.Search,
        CommonOptions.BackbonePrecision,
    ];

    public int Run(CommandLine args, CommandContext context)
    {
        if (args.Positional.Count != 1) throw new UsageException("expected one artifact file");
        string data = args.Require("data");
        string? json = args.Get("json");
        var protocols = args.Parsed("mask-protocol", MaskProtocols.Parse);
        double reviewRate = args.Double("review-rate", 0, 0.5);
        if (json is not null) CommonOptions.CheckWritable(json);
        string? html = args.Get("report");
        if (html is not null) CommonOptions.CheckWritable(html);
        var dataset = DatasetFolder.Open(data);
        var artifact = ArtifactFile.Read(args.Positional[0]);
        var console = context.CreateProgress();
        var device = new ExecutionDevice(CommonOptions.ParseDevice(args));
        using var scorer = new PatchCoreScorer(artifact.Content, device, CommonOptions.ParsePrecision(args),
            CommonOptions.ParseSearch(args), CommonOptions.ParseBackbonePrecision(args));
        console.LogInformation($"device: {device.Describe()}, {scorer.PrecisionDescription}, {scorer.SearchDescription}");
        if (SizeMismatch(artifact.Content.Manifest, dataset) is { } mismatch) console.LogWarning(mismatch);
        var result = new Evaluator(console, console).Evaluate(artifact, scorer, dataset, CommonOptions.ParseBatch(args), protocols,
            args.Get("dump-maps"), context.Cancel, reviewRate);
        var report = result.Report;
        PrintTable(report, context.Out);
        if (json is not null)
        {
            File.WriteAllText(json, report.ToJson());
            context.Out.WriteLine($"wrote {json}");
        }
        if (html is not null)
        {
            var page = new Reports.EvaluationReportPage(new Imaging.ImageLoader()).Render(artifact, result, dataset.Root);
            DurableFile.Write(html, System.Text.Encoding.UTF8.GetBytes(page), sync: false);
            context.Out.WriteLine($"wrote {html} ({new FileInfo(html).Length / 1e6:F1} MB)");
        }
        return TrainerApp.ExitOk;
    }

    /// <summary>
    /// A warning when the test images are not the size the model was built on (another product or camera: every score then
    /// means little, e.g. a gasket model on sheet images rejects every good part); null when they are, or the model does
    /// not say (built before it recorded the size).
    /// </summary>
    public static string? SizeMismatch(Manifest manifest, DatasetFolder dataset)
    {
        if (manifest.FrameWidth <= 0 || dataset.TestImages.Count == 0) return null;
        var loader = new Imaging.ImageLoader();
        var sizes = dataset.TestImages.Take(8).Select(t =>
        {
            try { return loader.Size(t.Path); }
            catch (Imaging.ImageLoadException) { return ((int, int)?)null; }
        }).OfType<(int Width, int Height)>().Distinct().ToList();
        var other = sizes.Where(z => z != (manifest.FrameWidth, manifest.FrameHeight)).ToList();
        if (other.Count == 0) return null;
        return $"the model for '{manifest.Product}' was built on {manifest.FrameWidth} x {manifest.FrameHeight} images, but these test images are " +
               $"{string.Join(", ", other.Select(z => $"{z.Width} x {z.Height}"))}: another product or camera? Its scores and threshold do not " +
                   $"carry over";
    }

    /// <summary>False rejects and escapes with counts, overall and per defect type, then precision and recall.</summary>
    public static void PrintOperatingPoint(OperatingPoint p, TextWriter o, string title, bool perDefect = true)
    {
        static string Rate(double? v) => v is { } x ? x.ToString("P1", CultureInfo.InvariantCulture) : "n/a";
        int width = Math.Max(13, p.PerDefect.Keys.Select(k => k.Length + 3).DefaultIfEmpty(0).Max());
        o.WriteLine($"{title}: threshold {p.Threshold:G5}");
        o.WriteLine($"  {"false rejects".PadRight(width)} {Rate(p.FalseRejectRate),7}  ({p.FalseRejects} of {p.Good} good parts)");
        o.WriteLine($"  {"escapes".PadRight(width)} {Rate(p.EscapeRate),7}  ({p.Escapes} of {p.Defective} defective parts)");
        if (perDefect)
            foreach (var (type, d) in p.PerDefect)
                o.WriteLine($"  {("  " + type).PadRight(width)} {Rate(d.EscapeRate),7}  ({d.Escapes} of {d.Count})");
        o.WriteLine($"  precision {Rate(p.Precision)}, recall {Rate(p.Recall)}");
    }

    public static void PrintTable(EvaluationReport r, TextWriter o)
    {
        static string F(double? v) => v is { } x ? x.ToString("0.000", CultureInfo.InvariantCulture) : "  n/a";
        o.WriteLine($"product {r.Product}, artifact {r.Artifact.Id} ({r.Artifact.CoresetRows} bank rows), {r.Images.Good} good + " +
            $"{r.Images.Defective} defective test images");
        o.WriteLine();
        if (r.AtThreshold is { } p)
        {
            PrintOperatingPoint(p, o, "at the artifact's calibrated threshold (what the agent does)");
            o.WriteLine();
        }
        if (r.Review is { } b)
        {
            o.WriteLine($"REVIEW band [{b.From:G5}, {b.Threshold:G5}) (edge: the {1 - b.Rate:P0} quantile of the out-of-fold good scores): " +
                        $"{b.GoodInBand} of {b.Good} good parts and {b.DefectsInBand} of {b.Defective} defects would go to review" +
                        (b.DefectsInBandByType.Count > 0 ? $" ({string.Join(", ", b.DefectsInBandByType.Select(d => $"{d.Key} {d.Value}"))})" : ""));
            o.WriteLine("  closest calls: " + string.Join("; ", b.Below.Take(3).Select(c => $"{c.Label} {c.Score:G4} below")
                .Concat(b.Above.Take(3).Select(c => $"{c.Label} {c.Score:G4} above"))));
            o.WriteLine();
        }
        if (r.Scales is { } scales)
        {
            o.WriteLine($"scales: tiles threshold {scales.TilesThreshold:G5}, whole frame {scales.WholeFrameThreshold:G5}; image AUROC and the " +
                "defects each scale's score rejected at the model's threshold");
            o.WriteLine($"  {"",-12} {"tiles",7} {"whole",7} {"both",7} {"by tiles",9} {"by whole",9}");
            foreach (var (type, c) in scales.PerDefect)
                o.WriteLine($"  {type,-12} {F(c.TilesAuroc),7} {F(c.WholeFrameAuroc),7} {F(c.CombinedAuroc),7} {c.CaughtByTiles,9} " +
                    $"{c.CaughtByWholeFrame,9}");
            var alone = scales.TilesAlone;
            o.WriteLine($"  the tiles alone at their own threshold: {alone.FalseRejects} of {alone.Good} good parts rejected, {alone.Escapes} " +
                $"of {alone.Defective} defects escaped");
            o.WriteLine();
        }
        o.WriteLine($"{"",-14} {"images",7} {"image AUROC",12} {"pixel AUROC",12} {"PRO",7}");
        o.WriteLine($"{"all",-14} {r.Images.Good + r.Images.Defective,7} {F(r.ImageAuroc),12} {F(r.PixelAuroc),12} {F(r.Pro),7}");
        foreach (var (type, m) in r.PerDefect)
            o.WriteLine($"{type,-14} {m.Count,7} {F(m.ImageAuroc),12} {F(m.PixelAuroc),12} {F(m.Pro),7}");
        foreach (var m in r.PixelMetrics)
            o.WriteLine($"masks: {m.MaskProtocol,-8} {m.Regions} defect regions, pixel AUROC {F(m.PixelAuroc)}, PRO {F(m.Pro)}" +
                        (m.MaskProtocol == "official" ? " (pixels wholly inside a defect, as the official PatchCore code)" : " (pixels at least " +
                            "half inside a defect)"));
        o.WriteLine();
        if (r.AtF1Threshold is { } f1)
        {
            PrintOperatingPoint(f1, o, "at the F1-optimal threshold (chosen with the test labels, which a plant does not have)", perDefect: false);
            o.WriteLine($"  {r.Misclassified} of {r.Images.Good + r.Images.Defective} images misclassified");
        }
        o.WriteLine($"throughput {r.Timing.ImagesPerSecond:F1} images/s, median {r.Timing.MedianMs:F1} ms per image");
        foreach (var n in r.Notes) o.WriteLine($"note: {n}");
        if (r.Skipped.Count > 0) o.WriteLine($"skipped {r.Skipped.Count} unreadable test image(s)");
    }
}
