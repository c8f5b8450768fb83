using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Devices;
using EdgePatchCore.Embedding;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Search;
using EdgePatchCore.Statistics;
using EdgePatchCore.Tiling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>
/// The bounded patch search against the exhaustive one (the reference), same bank precision, same frames, in turn in
/// the same rounds. Per frame kind (good: a "good" folder in the path; defective: the rest) it prints the median
/// milliseconds of the patch search alone (s_i, s*, m*, Eq. 7, map) and of the whole frame, the speed-up, the share of
/// the bank the bounded search compared per patch and how many patches it searched exactly; then whether both gave
/// the same verdict and image score on every frame. The baseline beside them is the reference path in full: the exhaustive search on
/// the float32 backbone's patches, timed in the same rounds; every speed-up is also given against it.
/// </summary>
public sealed class SearchComparison(TextWriter output)
{
    private sealed record FrameResult(bool Good, double ExhaustiveSearchMs, double BoundedSearchMs, double ExhaustiveTotalMs,
        double BoundedTotalMs, double BaselineTotalMs, ImageScore Exhaustive, ImageScore Bounded, ImageScore Baseline, SearchWork Work);

    public void Run(Artifact artifact, ExecutionDevice device, BankPrecision precision, BackbonePrecision backbonePrecision,
        IReadOnlyList<string> images, int rounds, CancellationToken cancel)
    {
        var content = artifact.Content;
        using var exhaustive = new PatchCoreScorer(content, device, precision, PatchSearchKind.Exhaustive, backbonePrecision);
        using var bounded = new PatchCoreScorer(content, device, precision, PatchSearchKind.Bounded, backbonePrecision);
        using var baseline = new PatchCoreScorer(content, device, precision, PatchSearchKind.Exhaustive, BackbonePrecision.Float32);
        if (bounded.SearchKind != PatchSearchKind.Bounded)
        {
            output.WriteLine($"search comparison: none ({bounded.SearchDescription})");
            return;
        }
        output.WriteLine($"search comparison: {exhaustive.PrecisionDescription}; exhaustive vs {bounded.SearchDescription}, {images.Count} " +
            $"frames, each scored {rounds} time(s) by each in turn (medians); baseline: the exhaustive search on the float32 backbone");
        var loader = new ImageLoader();
        var results = new List<FrameResult>();
        for (int f = -1; f < images.Count; f++) // frame -1: the first frame once more, untimed, to warm both up
        {
            cancel.ThrowIfCancellationRequested();
            string path = images[Math.Max(0, f)];
            using var image = loader.Decode(File.ReadAllBytes(path), path);
            var result = content.Tiling is { } tiling
                ? Tiled(image, tiling, exhaustive, bounded, baseline, rounds, Good(path))
                : WholeFrame(image, content, exhaustive, bounded, baseline, rounds, Good(path));
            if (f >= 0) results.Add(result);
        }
        Report(results, content.Scoring.Threshold);
    }

    private static bool Good(string path) => path.Replace('\\', '/').Split('/').Contains("good");

    private static FrameResult WholeFrame(Image<Rgb24> image, ModelContent content, PatchCoreScorer exhaustive, PatchCoreScorer bounded,
        PatchCoreScorer baseline, int rounds, bool good)
    {
        var features = exhaustive.Features;
        var input = new float[features.InputLength];
        ImageLoader.ToInput(image, content.Input, input, "frame");
        var backboneTimes = new List<double>();
        float[] patches = [];
        for (int r = 0; r < rounds; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            patches = features.Extract(input, 1);
            backboneTimes.Add(Ms(t0));
        }
        double backbone = Median(backboneTimes);
        var (e, eMs) = Time(() => exhaustive.ScorePatches(patches, 1)[0], rounds, exhaustive, out _);
        var (b, bMs) = Time(() => bounded.ScorePatches(patches, 1)[0], rounds, bounded, out var work);
        var (reference, referenceMs) = Time(() => baseline.Score(input, 1)[0], rounds, baseline, out _);
        return new FrameResult(good, eMs, bMs, backbone + eMs, backbone + bMs, referenceMs, e, b, reference, work);
    }

    private static FrameResult Tiled(Image<Rgb24> image, TilingSpec tiling, PatchCoreScorer exhaustive, PatchCoreScorer bounded,
        PatchCoreScorer baseline, int rounds, bool good)
    {
        using var frame = TiledFrame.From(image, tiling);
        var eTimes = new List<(double Search, double Total)>();
        var bTimes = new List<(double Search, double Total)>();
        var baselineTimes = new List<double>();
        ImageScore? e = null, b = null, reference = null;
        SearchWork work = default;
        for (int r = 0; r < rounds; r++)
        {
            long start = Stopwatch.GetTimestamp();
            reference = baseline.ScoreTiled(frame);
            baselineTimes.Add(Ms(start));
            baseline.TakeSearchWork();
            var times = new TiledStageTimes();
            long t0 = Stopwatch.GetTimestamp();
            e = exhaustive.ScoreTiled(frame, times);
            eTimes.Add((times.KnnMs, Ms(t0)));
            exhaustive.TakeSearchWork();
            times = new TiledStageTimes();
            t0 = Stopwatch.GetTimestamp();
            b = bounded.ScoreTiled(frame, times);
            bTimes.Add((times.KnnMs, Ms(t0)));
            work = bounded.TakeSearchWork();
        }
        return new FrameResult(good, Median(eTimes.Select(t => t.Search)), Median(bTimes.Select(t => t.Search)),
            Median(eTimes.Select(t => t.Total)), Median(bTimes.Select(t => t.Total)), Median(baselineTimes), e!, b!, reference!, work);
    }

    private static (ImageScore Score, double Ms) Time(Func<ImageScore> score, int rounds, PatchCoreScorer scorer, out SearchWork work)
    {
        var times = new List<double>();
        ImageScore? result = null;
        work = default;
        for (int r = 0; r < rounds; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            result = score();
            times.Add(Ms(t0));
            work = scorer.TakeSearchWork();
        }
        return (result!, Median(times));
    }

    private void Report(List<FrameResult> results, float threshold)
    {
        output.WriteLine($"{"frames",-10} {"n",5} {"exhaustive ms",14} {"bounded ms",11} {"speed-up",9} {"frame ms (exh.)",16} " +
            $"{"frame ms (bnd.)",16} {"speed-up",9} {"baseline ms",12} {"vs baseline",12} {"bank/patch",11} {"exact/frame",12}");
        foreach (var (name, rows) in new[] { ("good", results.Where(r => r.Good).ToList()), ("defective", results.Where(r => !r.Good).ToList()),
                     ("all", results) })
        {
            if (rows.Count == 0) continue;
            double e = Median(rows.Select(r => r.ExhaustiveSearchMs)), b = Median(rows.Select(r => r.BoundedSearchMs));
            double et = Median(rows.Select(r => r.ExhaustiveTotalMs)), bt = Median(rows.Select(r => r.BoundedTotalMs));
            double reference = Median(rows.Select(r => r.BaselineTotalMs));
            double visited = rows.Sum(r => r.Work.RowsVisited) / (double)rows.Sum(r => r.Work.Patches * r.Work.BankRows);
            double exact = rows.Average(r => (double)r.Work.ExactPatches);
            output.WriteLine($"{name,-10} {rows.Count,5} {e,14:F1} {b,11:F1} {e / b,8:F1}x {et,16:F1} {bt,16:F1} {et / bt,8:F2}x " +
                $"{reference,12:F1} {reference / bt,11:F2}x {visited,11:P2} {exact,12:F1}");
        }
        int sameVerdict = results.Count(r => Judge.Of(r.Exhaustive.Score, threshold) == Judge.Of(r.Bounded.Score, threshold));
        int samePatch = results.Count(r => r.Exhaustive.MaxPatchIndex == r.Bounded.MaxPatchIndex);
        double worst = results.Max(r => Math.Abs(r.Exhaustive.Score - r.Bounded.Score) / Math.Max(1e-30, Math.Abs(r.Exhaustive.Score)));
        output.WriteLine($"image scores: same verdict on {sameVerdict} of {results.Count} frames, same s* patch on {samePatch}, " +
            $"largest relative difference {worst:E1}");
        int baselineVerdict = results.Count(r => Judge.Of(r.Baseline.Score, threshold) == Judge.Of(r.Bounded.Score, threshold));
        output.WriteLine($"against the baseline (float32 backbone, exhaustive): same verdict on {baselineVerdict} of {results.Count} frames");
    }

    private static double Median(IEnumerable<double> values) => Percentile.Of(values.ToList(), 0.5);
    private static double Ms(long from) => Stopwatch.GetElapsedTime(from).TotalMilliseconds;
}
