using System.Text.Json;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Devices;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Search;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Tests.Cli;

namespace EdgePatchCore.Tests.Tiling;

/// <summary>
/// The sheet with large faint stains (`trainer synth --large-stains`: 160-240 pixels across, 6-9 grey levels deep) besides its pits,
/// scratches and burrs; 30 training images, 20 good and 8 x 4 defective test images; one tiled model with both scales, the whole
/// view's row profile flattened (the sheet is brushed along x), built and evaluated through the trainer's command line.
/// </summary>
public sealed class LargeStainSheetFixture : IDisposable
{
    public TempFolder Folder { get; } = new();
    public string Data => Folder.File("sheet");
    public string Model => Folder.File("sheet-scales.pcb");
    public JsonElement Report { get; }

    public LargeStainSheetFixture()
    {
        new SheetGenerator(new SheetOptions { Seed = 4, TrainCount = 30, TestGoodCount = 20, TestPerDefect = 8, LargeStains = true }).Write(Data);
        Run("build", "--product", "sheet", "--data", Data, "--out", Model, "--tile", "224", "--coreset", "0.01", "--whole-frame-flatten", "rows",
            "--device", "cpu");
        string json = Folder.File("report.json");
        Run("evaluate", Model, "--data", Data, "--json", json, "--device", "cpu");
        Report = JsonDocument.Parse(File.ReadAllBytes(json)).RootElement;
    }

    private static void Run(params string[] args) => SheetFixture.Run(args);

    public void Dispose() => Folder.Dispose();
}

/// <summary>Both scales (docs/TILING.md, "Both scales"). In the agent tests' collection, as <see cref="SheetTests"/>, for its minutes of full load.</summary>
[Collection("agent")]
public class BothScalesTests(LargeStainSheetFixture fixture) : IClassFixture<LargeStainSheetFixture>
{
    private JsonElement Scales => fixture.Report.GetProperty("scales");
    private JsonElement Contribution(string type) => Scales.GetProperty("perDefect").GetProperty(type);
    private static double Auroc(JsonElement c, string scale) => c.GetProperty(scale + "Auroc").GetDouble();

    [Fact]
    public void Large_stains_only_the_whole_frame_finds_and_pits_only_the_tiles_find_are_both_caught()
    {
        // The class only the whole view shows, and the one only the tiles show.
        var stain = Contribution("stain");
        Assert.True(Auroc(stain, "tiles") < 0.8 && Auroc(stain, "wholeFrame") >= 0.95,
            $"stains: tiles {Auroc(stain, "tiles")}, whole frame {Auroc(stain, "wholeFrame")}");
        // Pits of 3 to 10 pixels are under 1.5 pixels across in the frame resized to 224.
        var pit = Contribution("pit");
        Assert.True(Auroc(pit, "tiles") >= 0.95 && Auroc(pit, "wholeFrame") < 0.95,
            $"pits: tiles {Auroc(pit, "tiles")}, whole frame {Auroc(pit, "wholeFrame")}");
        Assert.Equal(0, stain.GetProperty("caughtByTiles").GetInt32());

        // The model with both: every class at image AUROC >= 0.95 and at most 10% escapes at the calibrated threshold.
        var atThreshold = fixture.Report.GetProperty("atThreshold");
        foreach (var type in new[] { "burr", "pit", "scratch", "stain" })
        {
            Assert.True(Auroc(Contribution(type), "combined") >= 0.95, $"{type}: image AUROC {Auroc(Contribution(type), "combined")}");
            var escapes = atThreshold.GetProperty("perDefect").GetProperty(type);
            Assert.True(escapes.GetProperty("escapes").GetInt32() <= 0.1 * escapes.GetProperty("count").GetInt32(), $"{type}: {escapes}");
        }
        var alone = Scales.GetProperty("tilesAlone");
        Assert.True(atThreshold.GetProperty("escapes").GetInt32() < alone.GetProperty("escapes").GetInt32());
        // The false-reject target is the pair's (the threshold is set on the combined out-of-fold scores). With 150 training images the
        // flattened pair rejects no more good parts than the tiles alone (docs/TILING.md, "Flattening a brushed surface"); a model of 30
        // has 30 out-of-fold scores per threshold, so on 20 good parts at a 1% target: at most one more.
        Assert.True(atThreshold.GetProperty("falseRejects").GetInt32() <= alone.GetProperty("falseRejects").GetInt32() + 1,
            $"false rejects: both scales {atThreshold.GetProperty("falseRejects")}, tiles alone {alone.GetProperty("falseRejects")}");
    }

    [Fact]
    public void A_frame_gets_both_scores_the_larger_decides_and_the_map_shows_both()
    {
        var content = ArtifactFile.Read(fixture.Model).Content;
        var view = content.WholeFrame!;
        Assert.True(view.Bank.Rows < content.Bank.Rows / 2, $"whole-frame bank {view.Bank.Rows} rows, tiles {content.Bank.Rows}");
        Assert.True(content.Scoring.Threshold >= view.TilesThreshold); // set on the pair's out-of-fold scores
        using var scorer = new PatchCoreScorer(content, new ExecutionDevice(DeviceKind.Cpu), BankPrecision.Int8);
        using var wholeOnly = new PatchCoreScorer(content.WholeFrameModel()!, new ExecutionDevice(DeviceKind.Cpu), BankPrecision.Int8);
        var loader = new ImageLoader();
        using var image = loader.Decode(Path.Combine(fixture.Data, "test/stain/0000.png"));
        var score = scorer.ScoreFrame(image, "stain");
        var scales = score.Scales!;
        Assert.Equal(Math.Max(scales.Tiles, scales.WholeFrameInTilesUnits), score.Score);
        Assert.True(scales.WholeFrameDecides);
        Assert.True(score.Score >= content.Scoring.Threshold);
        // The whole-frame score is the whole-frame model's own, on the scaled frame resized to the network input, its rows flattened.
        Assert.Equal(ProfileFlattening.Rows, view.Flattening);
        var input = new float[3 * content.Input.Width * content.Input.Height];
        using var flattener = new ProfileFlattener(ProfileFlattening.Rows);
        flattener.ToInput(image, content.Input, input, "stain");
        var alone = wholeOnly.Score(input, 1)[0];
        Assert.Equal(alone.Score, scales.WholeFrame, 1e-4f);
        // The map: the stain's hottest pixel is the whole frame's, in the tiles' units.
        Assert.Equal((1600, 1200), (score.MapWidth, score.MapHeight));
        Assert.Equal(alone.AnomalyMap.Max() * view.ToTilesUnits, score.AnomalyMap.Max(), 0.02f * score.AnomalyMap.Max());
    }

    [Fact]
    public void The_scales_are_in_inspect_and_score_and_can_be_left_out()
    {
        var r = TrainerRunner.Run("inspect", fixture.Model);
        Assert.Contains("whole-frame scale", r.Out);
        Assert.Contains("the larger of the two", r.Out);
        Assert.Contains("the rows' profile flattened", r.Out);
        r = TrainerRunner.Run("score", fixture.Model, Path.Combine(fixture.Data, "test/stain/0001.png"), "--device", "cpu");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("\twhole frame ", r.Out);
        r = TrainerRunner.Run("build", "--product", "sheet", "--data", fixture.Data, "--whole-frame", "off", "--out", fixture.Folder.File("x.pcb"));
        Assert.Equal(2, r.ExitCode); // --whole-frame needs --tile
        Assert.Contains("--tile", r.Error);
    }
}
