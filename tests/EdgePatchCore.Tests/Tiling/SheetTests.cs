using EdgePatchCore.Artifacts;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Tests.Cli;
using EdgePatchCore.Tiling;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Tiling;

/// <summary>
/// Tiled inspection on the synthetic megapixel sheet, against the whole-frame model of the same images. In the agent
/// tests' collection, so that its two minutes of full load on both cores never run beside their timed waits.
/// </summary>
[Collection("agent")]
public class SheetTests(SheetFixture fixture) : IClassFixture<SheetFixture>
{
    private static double Get(System.Text.Json.JsonElement report, string name) => report.GetProperty(name).GetDouble();

    [Fact]
    public void The_tiled_model_finds_the_small_defects_the_whole_frame_model_misses()
    {
        var tiled = fixture.TiledReport;
        var whole = fixture.WholeReport;
        Assert.True(Get(tiled, "imageAuroc") >= 0.97, $"tiled image AUROC {Get(tiled, "imageAuroc")}");
        Assert.True(Get(tiled, "pixelAuroc") >= 0.97, $"tiled pixel AUROC {Get(tiled, "pixelAuroc")}");
        Assert.True(Get(tiled, "imageAuroc") > Get(whole, "imageAuroc"), $"tiled {Get(tiled, "imageAuroc")} vs whole frame {Get(whole, "imageAuroc")}");
        int Escapes(System.Text.Json.JsonElement r) => r.GetProperty("atThreshold").GetProperty("escapes").GetInt32();
        Assert.True(Escapes(tiled) < Escapes(whole), $"escapes at the calibrated threshold: tiled {Escapes(tiled)}, whole frame {Escapes(whole)}");
        // The whole frame's masks at 224 x 224 lose defects smaller than half a pixel there; the tiled masks keep every one.
        int Regions(System.Text.Json.JsonElement r) => r.GetProperty("pixelMetrics")[0].GetProperty("regions").GetInt32();
        Assert.Equal(24, Regions(tiled));
        Assert.True(Regions(whole) < 24);
    }

    /// <summary>The int8 backbone's bound (docs/design.md, "The int8 backbone"): image and pixel AUROC within 0.003 of float32.</summary>
    [Fact]
    public void The_int8_backbone_scores_the_sheet_as_well_as_float32()
    {
        var int8 = fixture.TiledReport;
        var float32 = fixture.TiledFloatReport;
        foreach (var metric in new[] { "imageAuroc", "pixelAuroc" })
            Assert.True(Math.Abs(Get(int8, metric) - Get(float32, metric)) <= 0.003,
                $"{metric}: int8 {Get(int8, metric)}, float32 {Get(float32, metric)}");
        var content = ArtifactFile.Read(fixture.Tiled).Content;
        Assert.Equal(EdgePatchCore.Embedding.BackbonePrecision.Int8, content.Backbone.Precision);
        Assert.NotNull(content.Backbone.Ranges);
        Assert.Equal(EdgePatchCore.Embedding.BackbonePrecision.Float32, ArtifactFile.Read(fixture.TiledFloat).Content.Backbone.Precision);
        var r = TrainerRunner.Run("inspect", fixture.Tiled);
        Assert.Contains("bank embedded in int8; int8 activation ranges of", r.Out);
    }

    [Fact]
    public void The_artifact_carries_the_tiling_and_inspect_shows_it()
    {
        var content = ArtifactFile.Read(fixture.Tiled).Content;
        Assert.Equal(new TilingSpec { TileSize = 224, Overlap = 16, Scale = 1 }, content.Tiling);
        Assert.Equal(new InputSpec { Width = 224, Height = 224 }, content.Input);
        Assert.Null(ArtifactFile.Read(fixture.Whole).Content.Tiling);
        var r = TrainerRunner.Run("inspect", fixture.Tiled);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("224x224 tiles, overlap >= 16 px, scale 1", r.Out);
    }

    /// <summary>A hairline scratch drawn across the overlap of two tile columns and two tile rows.</summary>
    private static Image<Rgb24> FrameWithBorderScratch(out (int X0, int X1, int Y) scratch)
    {
        var (image, _) = new SheetGenerator(new SheetOptions { Seed = 11 }).Render(9, 0, SheetDefect.None);
        scratch = (170, 250, 600); // tile columns at 0 and 197 (overlap 197..223), rows at 390 and 586 (overlap 586..613)
        for (int y = scratch.Y; y <= scratch.Y + 1; y++)
            for (int x = scratch.X0; x <= scratch.X1; x++)
            {
                var p = image[x, y];
                image[x, y] = new Rgb24((byte)Math.Min(255, p.R + 40), (byte)Math.Min(255, p.G + 40), (byte)Math.Min(255, p.B + 40));
            }
        return image;
    }

    [Fact]
    public void A_defect_across_a_tile_border_is_found_with_no_seam_in_the_map()
    {
        var artifact = ArtifactFile.Read(fixture.Tiled);
        using var scorer = new PatchCoreScorer(artifact.Content, new ExecutionDevice(DeviceKind.Cpu), BankPrecision.Float32);
        float threshold = artifact.Content.Scoring.Threshold;
        var layout = artifact.Content.Tiling!.Layout(1600, 1200);
        Assert.Equal(197, layout.ColumnOrigins[1]);
        Assert.Equal(586, layout.RowOrigins[3]);

        using var image = FrameWithBorderScratch(out var scratch);
        var score = scorer.ScoreFrame(image, "border");
        Assert.True(score.Score >= threshold, $"score {score.Score} below the threshold {threshold}");
        Assert.Equal((1600, 1200), (score.MapWidth, score.MapHeight));
        var map = score.AnomalyMap;
        int hottest = Array.IndexOf(map, map.Max());
        Assert.InRange(hottest % 1600, scratch.X0 - 12, scratch.X1 + 12);
        Assert.InRange(hottest / 1600, scratch.Y - 12, scratch.Y + 12);
        // Along the scratch the map stays high on both sides of every tile edge it crosses (197, 223): no dip, no step.
        var along = Enumerable.Range(scratch.X0 + 6, scratch.X1 - scratch.X0 - 12).Select(x => map[scratch.Y * 1600 + x]).ToArray();
        Assert.True(along.Min() >= 0.5f * along.Max(), $"the map along the scratch falls to {along.Min()} of {along.Max()}");

        // A good frame: the steps across tile edges are no larger than the map's steps beside them.
        var (good, _) = new SheetGenerator(new SheetOptions { Seed = 11 }).Render(9, 0, SheetDefect.None);
        using (good)
        {
            var g = scorer.ScoreFrame(good, "good").AnomalyMap;
            double Step(int x, bool vertical)
            {
                double sum = 0;
                int n = vertical ? 1200 : 1600;
                for (int i = 0; i < n; i++)
                    sum += vertical ? Math.Abs(g[i * 1600 + x] - g[i * 1600 + x - 1]) : Math.Abs(g[x * 1600 + i] - g[(x - 1) * 1600 + i]);
                return sum / n;
            }
            foreach (var (origins, vertical, side) in new[] { (layout.ColumnOrigins, true, 1600), (layout.RowOrigins, false, 1200) })
            {
                var edges = origins.Skip(1).Concat(origins.SkipLast(1).Select(o => o + 224)).ToArray();
                foreach (int edge in edges)
                {
                    double seam = Step(edge, vertical);
                    double beside = new[] { -8, -6, -4, 4, 6, 8 }.Select(d => Step(Math.Clamp(edge + d, 1, side - 1), vertical)).Average();
                    Assert.True(seam <= 2 * beside + 1e-3 * threshold, $"{(vertical ? "column" : "row")} {edge}: step {seam:G3} vs {beside:G3} beside it");
                }
            }
        }
    }

    /// <summary>The bounded search against the exhaustive one on every tiled test frame, at every bank precision.</summary>
    [Theory]
    [InlineData(BankPrecision.Float32)]
    [InlineData(BankPrecision.Float16)]
    [InlineData(BankPrecision.Int8)]
    public void The_bounded_search_scores_every_tiled_test_frame_as_the_exhaustive_one(BankPrecision precision)
    {
        var artifact = ArtifactFile.Read(fixture.Tiled);
        var files = Directory.EnumerateFiles(Path.Combine(fixture.Data, "test"), "*.png", SearchOption.AllDirectories).Order().ToList();
        var comparison = EdgePatchCore.Tests.Scoring.BoundedSearchComparison.Run(artifact, files, precision);
        Assert.Equal(files.Count, comparison.Frames);
        Assert.True(comparison.Work.ExactPatches < comparison.Work.Patches / 10,
            $"{comparison.Work.ExactPatches} of {comparison.Work.Patches} patches searched exactly");
    }

    [Fact]
    public void Tiled_frames_score_alone_exactly_as_in_a_run_of_files()
    {
        var artifact = ArtifactFile.Read(fixture.Tiled);
        using var scorer = new PatchCoreScorer(artifact.Content, new ExecutionDevice(DeviceKind.Cpu), BankPrecision.Float32);
        var files = new[] { "test/good/0000.png", "test/pit/0000.png", "test/burr/0001.png" }.Select(f => Path.Combine(fixture.Data, f)).ToList();
        var loader = new ImageLoader();
        var run = scorer.ScoreFiles(files, loader, batchSize: 8, (_, r) => Assert.Fail(r)).ToList();
        Assert.Equal([0, 1, 2], run.Select(r => r.Index));
        for (int i = files.Count - 1; i >= 0; i--) // alone and in another order: nothing carries over from frame to frame
        {
            using var image = loader.Decode(files[i]);
            var alone = scorer.ScoreFrame(image, files[i]);
            Assert.Equal(run[i].Score.Score, alone.Score);
            Assert.Equal(run[i].Score.MaxPatchIndex, alone.MaxPatchIndex);
            Assert.Equal(run[i].Score.AnomalyMap, alone.AnomalyMap);
        }
    }

    /// <summary>
    /// A tiled frame reuses one frame's worth of buffers (8 tiles of inputs and patches, the frame's patch scores): per
    /// frame it allocates the results it hands back (patch scores and the map) and little else: the managed wrappers of
    /// the ONNX Runtime calls, about 11 KB per run of 8 tiles (the whole-frame test allows 8 KB for its one run), and the
    /// whole-frame scale's results (its patch scores and its map at the network input's size) with one more run.
    /// </summary>
    [Fact]
    public void Scoring_a_tiled_frame_allocates_little_more_than_its_results()
    {
        var artifact = ArtifactFile.Read(fixture.Tiled);
        using var scorer = new PatchCoreScorer(artifact.Content, new ExecutionDevice(DeviceKind.Cpu), BankPrecision.Int8);
        using var image = new ImageLoader().Decode(Path.Combine(fixture.Data, "test/good/0001.png"));
        using var frame = TiledFrame.From(image, artifact.Content.Tiling!);
        for (int i = 0; i < 2; i++) scorer.ScoreTiled(frame);
        long before = GC.GetAllocatedBytesForCurrentThread();
        ImageScore last = null!;
        for (int i = 0; i < 4; i++) last = scorer.ScoreTiled(frame);
        double perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / 4.0;
        long results = 4L * (last.PatchScores.Length + last.AnomalyMap.Length);
        Assert.Equal(48 * 784, last.PatchScores.Length);
        int runs = (48 + TileLayout.TilesPerRun - 1) / TileLayout.TilesPerRun;
        Assert.NotNull(last.Scales);
        results += 4L * (784 + 224 * 224); // the whole-frame scale's own patch scores and map
        runs++;
        Assert.True(perFrame <= results + runs * 16 * 1024, $"{perFrame:F0} bytes per frame, of which results {results}");
    }

    [Fact]
    public void Extending_a_tiled_model_adds_the_tiles_of_the_new_frames_and_keeps_the_tiling()
    {
        using var work = new TempFolder();
        Directory.CreateDirectory(work.File("add"));
        var (image, _) = new SheetGenerator(new SheetOptions { Seed = 21 }).Render(0, 0, SheetDefect.None);
        using (image) image.SaveAsPng(work.File("add/new.png"));
        var r = TrainerRunner.Run("extend", fixture.Tiled, "--add", work.File("add"), "--out", work.File("x.pcb"), "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        var parent = ArtifactFile.Read(fixture.Tiled).Content;
        var child = ArtifactFile.Read(work.File("x.pcb")).Content;
        Assert.Equal(parent.Tiling, child.Tiling);
        Assert.Equal(parent.Manifest.TrainingPatchCount + 48 * 784, child.Manifest.TrainingPatchCount); // every tile of the frame
        Assert.True(child.Bank.Rows >= parent.Bank.Rows);
    }

    [Fact]
    public void Tiling_options_are_checked_before_any_work()
    {
        foreach (var (args, message) in new[]
        {
            (new[] { "--tile", "224", "--size", "320" }, "--size does not apply with --tile"),
            (new[] { "--tile", "8" }, "--tile"),
            (new[] { "--tile", "224", "--tile-overlap", "200" }, "overlap"),
            (new[] { "--scale", "0.5" }, "--tile-overlap, --scale, --whole-frame and --whole-frame-flatten need --tile N"),
            (new[] { "--whole-frame", "off" }, "--tile-overlap, --scale, --whole-frame and --whole-frame-flatten need --tile N"),
            (new[] { "--whole-frame-flatten", "rows" }, "--tile-overlap, --scale, --whole-frame and --whole-frame-flatten need --tile N"),
            (new[] { "--tile", "224", "--whole-frame", "maybe" }, "on or off"),
            (new[] { "--tile", "224", "--whole-frame-flatten", "diagonal" }, "expected off, rows or columns, not 'diagonal'"),
            (new[] { "--tile", "224", "--whole-frame", "off", "--whole-frame-flatten", "rows" }, "which --whole-frame off leaves out"),
        })
        {
            var r = TrainerRunner.Run(["build", "--product", "sheet", "--data", fixture.Data, "--out", Path.Combine(fixture.Folder.Path, "x.pcb"), .. args]);
            Assert.Equal(EdgePatchCore.Trainer.TrainerApp.ExitUsage, r.ExitCode);
            Assert.Contains(message, r.Error);
            r.AssertNoStackTrace();
        }
    }
}
