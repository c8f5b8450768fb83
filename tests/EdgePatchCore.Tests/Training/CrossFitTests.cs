using EdgePatchCore.Diagnostics;
using EdgePatchCore.Imaging;
using EdgePatchCore.Scoring;
using EdgePatchCore.Synthetic;
using EdgePatchCore.Training;
using EdgePatchCore.Devices;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Training;

/// <summary>One synthetic gasket build with every training image in the bank and a cross-fitted threshold.</summary>
public sealed class CrossFitFixture : IDisposable
{
    public const double TargetRate = 0.1;
    public TempFolder Folder { get; } = new();
    public BuildResult Build { get; }
    public string[] HeldOutGood { get; }

    public CrossFitFixture()
    {
        // train/good feeds the build; test/good are fresh draws of the same process, never seen by it.
        new GasketGenerator(new GasketOptions { Seed = 11, TrainCount = 80, TestGoodCount = 240, TestPerDefect = 0 }).Write(Folder.Path);
        HeldOutGood = Directory.GetFiles(Path.Combine(Folder.Path, "test", "good")).Order().ToArray();
        Build = new ModelBuilder(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Build(new BuildOptions
        {
            Product = "gasket", DataDirectory = Folder.Path, Device = DeviceKind.Cpu, FalseRejectRate = TargetRate, CalibrationFolds = 5,
        });
    }

    public void Dispose() => Folder.Dispose();
}

public class CrossFitTests(CrossFitFixture fixture) : IClassFixture<CrossFitFixture>
{
    [Fact]
    public void Every_image_is_in_the_bank_and_none_is_scored_against_a_bank_that_contains_it()
    {
        var build = fixture.Build;
        var manifest = build.Content.Manifest;
        Assert.Equal(80, manifest.TrainingImageCount);
        Assert.Equal(80, manifest.CalibrationImageCount);
        Assert.Equal(80, build.Content.Calibration!.SortedScores.Length);
        Assert.Equal(5, build.Folds.Count);
        Assert.Equal(Enumerable.Range(0, 80), build.Folds.SelectMany(f => f.Images).Order());
        int perImage = (int)(manifest.TrainingPatchCount / manifest.TrainingImageCount);
        foreach (var fold in build.Folds)
        {
            var own = fold.Images.ToHashSet();
            Assert.DoesNotContain(fold.BankRows, r => own.Contains(r / perImage));
            Assert.True(fold.BankRows.Length >= fold.KeptRows && fold.KeptRows > 0);
        }
        // The shipped bank draws on the rows of every fold's images.
        var bankImages = build.Coreset.Indices.Select(r => r / perImage).ToHashSet();
        Assert.All(build.Folds, f => Assert.Contains(f.Images, bankImages.Contains));
    }

    [Fact]
    public void The_threshold_rejects_about_the_target_share_of_unseen_good_images()
    {
        // What the threshold promises: a good image the bank has not seen scores at or above it with probability
        // about the target (10% here). The threshold is at least the empirical quantile of the 80 out-of-fold
        // scores (at most 8 reach it), so an unseen image exceeds it with probability ~ (8 + 1) / 81 = 11%, give
        // or take the quantile's own spread (Beta(9, 73): sd 3.5%) and the binomial spread of 240 draws (2%):
        // 3 standard deviations put the false-reject rate in [0, 23%]. A threshold fitted to scores of images
        // the bank contains (in-sample, scores too low) rejects far more than that; one fitted far out in the tail
        // rejects almost none: the lower bound of 2% catches that.
        var build = fixture.Build;
        using var scorer = new PatchCoreScorer(build.Content, new ExecutionDevice(DeviceKind.Cpu), BankPrecision.Auto);
        var scores = scorer.ScoreFiles(fixture.HeldOutGood, new ImageLoader(), 8, (_, reason) => throw new Exception(reason))
            .Select(s => s.Score.Score).ToArray();
        Assert.Equal(240, scores.Length);
        double rate = scores.Count(s => s >= build.Content.Scoring.Threshold) / (double)scores.Length;
        Assert.InRange(rate, 0.02, 0.23);
    }
}
