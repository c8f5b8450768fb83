using System.Diagnostics;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Tiling;
using EdgePatchCore.Devices;
using EdgePatchCore.Statistics;

namespace EdgePatchCore.Trainer.Benchmarks;

/// <summary>
/// Per-frame latency of a tiled model, split into decode, tiling (scale + cutting tiles into the input buffer),
/// backbone + embedding, kNN + Eq. 7, and stitching + blur, with the tile count. Tiled frames are scored one at a
/// time (a frame is already a batch of tiles), so this is batch 1.
/// </summary>
public sealed class TiledScoringBenchmark(TextWriter output)
{
    /// <returns>the patches of the last frame's first <see cref="TileLayout.TilesPerRun"/> tiles, for the kNN-alone figures</returns>
    public float[] Run(Artifact artifact, PatchCoreScorer scorer, ExecutionDevice device, IReadOnlyList<string> images, int iterations,
        CancellationToken cancel)
    {
        var content = artifact.Content;
        var tiling = content.Tiling!;
        var loader = new ImageLoader();
        var bytes = images.Select(File.ReadAllBytes).ToList(); // file reads stay out of the figures
        using (var first = loader.Decode(bytes[0], images[0]))
        {
            var layout = tiling.Layout(first.Width, first.Height);
            output.WriteLine($"scoring benchmark: model {artifact.Id} ({content.Manifest.Product}), bank {content.Bank.Rows} x " +
                $"{content.Bank.Columns}, {tiling}, frames {first.Width} x {first.Height} -> {layout.Width} x {layout.Height}, {layout.Columns} x " +
                                 $"{layout.Rows} = {layout.Count} tiles, " +
                             $"{TileLayout.TilesPerRun} tiles per backbone run, {device.Describe()}, {scorer.PrecisionDescription}, " +
                             $"{scorer.SearchDescription}, {images.Count} " +
                                 $"frame files, {iterations} iterations");
            using var warm = TiledFrame.From(first, tiling);
            scorer.ScoreTiled(warm); // warm-up
        }
        output.WriteLine($"{"batch",5} {"stage",-24} {"median ms/frame",16} {"p95 ms/frame",13}");
        var stages = new Dictionary<string, List<double>>
        {
            ["decode"] = [], ["tiling (scale + cut)"] = [], ["backbone + embedding"] = [], ["kNN + Eq. 7"] = [], ["stitching + blur"] = [],
                ["whole-frame scale"] = [], ["total"] = [],
        };
        const int warmUp = 2;
        int tiles = 0;
        for (int it = -warmUp; it < iterations; it++)
        {
            cancel.ThrowIfCancellationRequested();
            int index = (it + warmUp) % images.Count;
            long t0 = Stopwatch.GetTimestamp();
            using var image = loader.Decode(bytes[index], images[index]);
            long t1 = Stopwatch.GetTimestamp();
            using var frame = TiledFrame.From(image, tiling, images[index]);
            long t2 = Stopwatch.GetTimestamp();
            var times = new TiledStageTimes();
            scorer.ScoreTiled(frame, times);
            long t3 = Stopwatch.GetTimestamp();
            if (it < 0) continue;
            stages["decode"].Add(Ms(t0, t1));
            stages["tiling (scale + cut)"].Add(Ms(t1, t2) + times.TilingMs);
            stages["backbone + embedding"].Add(times.BackboneMs);
            stages["kNN + Eq. 7"].Add(times.KnnMs);
            stages["stitching + blur"].Add(times.StitchingMs);
            stages["whole-frame scale"].Add(times.WholeFrameMs);
            stages["total"].Add(Ms(t0, t3));
            tiles = times.Tiles;
        }
        foreach (var (stage, values) in stages)
            output.WriteLine($"{1,5} {stage,-24} {Percentile.Of(values, 0.5),16:F1} {Percentile.Of(values, 0.95),13:F1}");
        output.WriteLine($"{1,5} {"frames per second",-24} {1000 / Percentile.Of(stages["total"], 0.5),16:F2}");
        output.WriteLine($"{1,5} {"tiles per frame",-24} {tiles,16}");
        if (artifact.Content.WholeFrame is not null)
            output.WriteLine($"the whole-frame scale adds {Percentile.Of(stages["whole-frame scale"], 0.5) / (Percentile.Of(stages["total"], 0.5)
                - Percentile.Of(stages["whole-frame scale"], 0.5)):P1} to a frame's time (medians)");

        using var last = loader.Decode(bytes[^1], images[^1]);
        using var lastFrame = TiledFrame.From(last, tiling);
        int n = Math.Min(TileLayout.TilesPerRun, lastFrame.Layout.Count);
        var inputs = new float[n * scorer.Features.InputLength];
        lastFrame.WriteTiles(0, n, inputs);
        return scorer.Features.Extract(inputs, n);
    }

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
