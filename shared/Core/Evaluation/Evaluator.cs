using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Datasets;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Tiling;
using Microsoft.Extensions.Logging;

namespace EdgePatchCore.Evaluation;

/// <summary>Scores a labelled test set (MVTec layout) and computes the paper's metrics, overall and per defect type.</summary>
public sealed class Evaluator(ILogger log, IProgress<StageProgress>? progress = null)
{
    /// <param name="maskProtocols">how masks are read: the first gives <see cref="EvaluationReport.PixelAuroc"/>, <see cref="EvaluationReport.Pro"/>
    /// and the per-defect figures; every one gets an entry in <see cref="EvaluationReport.PixelMetrics"/></param>
    public EvaluationResult Evaluate(Artifact artifact, PatchCoreScorer scorer, DatasetFolder dataset, int batchSize = 8,
                                     IReadOnlyList<MaskProtocol>? maskProtocols = null, string? dumpDirectory = null,
                                     CancellationToken cancel = default, double reviewRate = 0)
    {
        maskProtocols = maskProtocols is { Count: > 0 } ? maskProtocols : [MaskProtocol.HalfCovered];
        var tests = dataset.TestImages;
        if (tests.Count == 0) throw new DatasetException($"no test images in {dataset.Root} (expected test/good and test/<defect> folders)");
        var spec = artifact.Content.Input;
        var loader = new ImageLoader();
        var skipped = new List<string>();
        var notes = new List<string>();

        var scored = new List<(TestImage Image, ImageScore Score)>();
        var perImageMs = new List<double>(); // batch time / batch size: the cost of one image in the stream
        var clock = Stopwatch.StartNew();
        var batchClock = Stopwatch.StartNew();
        var paths = tests.Select(t => t.Path).ToList();
        if (artifact.Content.Tiling is { } tiling)
        {
            // One frame at a time; pixel metrics need maps of one size, so the test frames must share the first one's size.
            foreach (var (index, frame) in new TiledFrameReader(loader, tiling).Read(paths, (_, reason) => skipped.Add(reason), oneSize: true,
                cancel))
            {
                scored.Add((tests[index], scorer.ScoreTiled(frame)));
                perImageMs.Add(batchClock.Elapsed.TotalMilliseconds);
                progress?.Report(new StageProgress("evaluating", index + 1, tests.Count));
                batchClock.Restart();
            }
        }
        else
        {
            var reader = new ImageBatchReader(loader, spec, batchSize);
            foreach (var batch in reader.Read(paths, (_, reason) => skipped.Add(reason), cancel))
            {
                var scores = scorer.Score(batch.Data, batch.Count);
                double ms = batchClock.Elapsed.TotalMilliseconds / batch.Count;
                for (int i = 0; i < batch.Count; i++)
                {
                    scored.Add((tests[batch.SourceIndices[i]], scores[i]));
                    perImageMs.Add(ms);
                }
                progress?.Report(new StageProgress("evaluating", batch.SourceIndices[^1] + 1, tests.Count));
                batchClock.Restart();
            }
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (scored.Count == 0) throw new DatasetException($"none of the {tests.Count} test images could be read");
        // Maps and masks share this geometry: the model's input, or a tiled model's scaled frame (one size, see above).
        spec = artifact.Content.Tiling is null ? spec : new InputSpec { Width = scored[0].Score.MapWidth, Height = scored[0].Score.MapHeight };
        foreach (var s in skipped) log.LogWarning($"skipped: {s}");

        // Masks at the input geometry, once per protocol; a defect image without a mask is left out of the pixel metrics.
        var masks = maskProtocols.Select(_ => new byte[]?[scored.Count]).ToArray();
        var hasPixelTruth = new bool[scored.Count];
        int missingMasks = 0;
        for (int i = 0; i < scored.Count; i++)
        {
            var image = scored[i].Image;
            if (!image.IsDefective) { hasPixelTruth[i] = true; continue; }
            if (image.MaskPath is null) { missingMasks++; continue; }
            try
            {
                for (int m = 0; m < maskProtocols.Count; m++) masks[m][i] = loader.LoadMask(image.MaskPath, spec,
                    MaskProtocols.MinimumLevel(maskProtocols[m]));
                hasPixelTruth[i] = true;
            }
            catch (ImageLoadException e) { missingMasks++; log.LogWarning($"mask unreadable: {e.Message}"); }
        }
        if (missingMasks > 0) notes.Add($"{missingMasks} defect images have no readable mask and are left out of the pixel metrics");

        var imageScores = scored.Select(s => s.Score.Score).ToArray();
        var defective = scored.Select(s => s.Image.IsDefective).ToArray();
        int good = defective.Count(d => !d), bad = defective.Length - good;
        double? imageAuroc = Metrics.Auroc(imageScores, defective);
        if (imageAuroc is null) notes.Add(bad == 0 ? "image AUROC: no defective test images" : "image AUROC: no good test images");
        var pixel = new List<EvaluationReport.PixelSummary>();
        var proCurve = new List<(double Fpr, double Pro)>();
        for (int m = 0; m < maskProtocols.Count; m++)
        {
            var regions = new List<int>();
            var (pa, pr) = PixelMetrics(scored, masks[m], hasPixelTruth, _ => true, spec, m == 0 ? proCurve : null, regions);
            pixel.Add(new EvaluationReport.PixelSummary(MaskProtocols.Name(maskProtocols[m]), regions.Count, pa, pr));
        }
        var (pixelAuroc, pro) = (pixel[0].PixelAuroc, pixel[0].Pro);
        if (dumpDirectory is not null)
        {
            var withTruth = Enumerable.Range(0, scored.Count).Where(i => hasPixelTruth[i]).ToArray();
            EvaluationDump.Write(dumpDirectory,
                withTruth.Select(i => (scored[i].Image.Path, scored[i].Image.DefectType, scored[i].Score.AnomalyMap)).ToList(),
                maskProtocols.Select((p, m) => (p, withTruth.Select(i => masks[m][i]).ToArray())).ToList(),
                spec.Width, spec.Height, pixel);
        }
        if (pixelAuroc is null) notes.Add("pixel AUROC and PRO: no defect masks");
        var f1 = Metrics.F1Optimal(imageScores, defective);
        var types = scored.Select(s => s.Image.IsDefective ? s.Image.DefectType : null).ToList();
        var atThreshold = OperatingPoint.At("calibrated", artifact.Content.Scoring.Threshold, imageScores, types);
        var atF1 = f1 is { } best ? OperatingPoint.At("F1-optimal", best.Threshold, imageScores, types) : null;
        float threshold = artifact.Content.Scoring.Threshold;
        var review = Calibration.ReviewBand.Threshold(artifact.Content.Calibration, threshold, reviewRate) is { } from
            ? ReviewBandReport.Of(reviewRate, from, threshold, scored.Select(s => s.Image.Path).ToList(), imageScores, types) : null;
        if (reviewRate > 0 && review is null) notes.Add($"no review band at {reviewRate:P0}: the artifact has no calibration scores, or that " +
                                                        "quantile is not below the threshold");

        var perDefect = new SortedDictionary<string, EvaluationReport.DefectMetrics>(StringComparer.Ordinal);
        foreach (var type in scored.Where(s => s.Image.IsDefective).Select(s => s.Image.DefectType).Distinct())
        {
            bool Include(int i) => !scored[i].Image.IsDefective || scored[i].Image.DefectType == type;
            var idx = Enumerable.Range(0, scored.Count).Where(Include).ToArray();
            double? auroc = Metrics.Auroc(idx.Select(i => imageScores[i]).ToArray(), idx.Select(i => defective[i]).ToArray());
            var (pa, pr) = PixelMetrics(scored, masks[0], hasPixelTruth, Include, spec);
            perDefect[type] = new EvaluationReport.DefectMetrics(idx.Count(i => defective[i]), auroc, pa, pr);
        }

        perImageMs.Sort();
        var report = new EvaluationReport
        {
            Product = artifact.Content.Manifest.Product,
            Artifact = new EvaluationReport.ArtifactInfo(artifact.Id, artifact.Content.Bank.Rows),
            Images = new EvaluationReport.ImageCounts(good, bad),
            AtThreshold = atThreshold,
            AtF1Threshold = atF1,
            Review = review,
            Scales = artifact.Content.WholeFrame is { } view ? ScalesReport.Of(scored.Select(s => s.Score).ToList(), types, threshold, view) : null,
            ImageAuroc = imageAuroc,
            PixelAuroc = pixelAuroc,
            Pro = pro,
            PixelMetrics = pixel,
            F1Threshold = f1?.Threshold,
            Misclassified = f1?.Misclassified,
            PerDefect = perDefect,
            Timing = new EvaluationReport.TimingInfo(scored.Count / seconds, Median(perImageMs)),
            Notes = notes,
            Skipped = skipped,
        };
        var images = scored.Select((s, i) => new EvaluatedImage(s.Image.Path, s.Image.DefectType, s.Score, masks[0][i])).ToList();
        return new EvaluationResult(report, images, proCurve, spec);
    }

    private static (double?, double?) PixelMetrics(List<(TestImage Image, ImageScore Score)> scored, byte[]?[] masks,
                                                   bool[] hasTruth, Func<int, bool> include, Imaging.InputSpec spec,
                                                   List<(double Fpr, double Pro)>? proCurve = null, List<int>? regionSizes = null)
    {
        var idx = Enumerable.Range(0, scored.Count).Where(i => hasTruth[i] && include(i)).ToArray();
        return Metrics.PixelMetrics(idx.Select(i => scored[i].Score.AnomalyMap).ToArray(), idx.Select(i => masks[i]).ToArray(),
                                    spec.Width, spec.Height, proCurve: proCurve, regionSizes: regionSizes);
    }

    private static double Median(List<double> sorted) => sorted.Count == 0 ? 0
        : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
