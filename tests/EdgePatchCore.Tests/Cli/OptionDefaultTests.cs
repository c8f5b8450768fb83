using System.Globalization;
using EdgePatchCore.Trainer;
using EdgePatchCore.Trainer.Commands;

namespace EdgePatchCore.Tests.Cli;

/// <summary>An option's default is written once, in its definition: --help shows it and the command reads it.</summary>
public class OptionDefaultTests
{
    [Fact]
    public void Build_reads_the_defaults_its_help_shows()
    {
        var build = new BuildCommand();
        string Default(string name) => build.Options.Single(o => o.Name == name).Default!;
        double Number(string name) => double.Parse(Default(name), CultureInfo.InvariantCulture);
        var o = BuildCommand.ParseOptions(TrainerApp.Parse(build, ["--product", "p"]));
        Assert.Equal(Number("projection"), o.ProjectionDimensions);
        Assert.Equal(Number("seed"), o.Seed);
        Assert.Equal(Number("neighbours"), o.NeighbourCount);
        Assert.Equal(Number("blur-sigma"), o.BlurSigma);
        Assert.Equal(Number("calibration-folds"), o.CalibrationFolds);
        Assert.Equal(Number("false-reject-rate"), o.FalseRejectRate);
        Assert.Equal(Number("batch"), o.BatchSize);
        Assert.Equal(Default("preset"), o.Preset);
        Assert.Equal(Default("reweight") == "on", o.Reweight);
        Assert.Equal(Default("device"), o.Device.ToString().ToLowerInvariant());

        var help = TrainerRunner.Run("build", "--help").Out;
        foreach (var name in new[] { "projection", "neighbours", "blur-sigma", "false-reject-rate", "batch" })
            Assert.Contains($"(default: {Default(name)})", help);
    }
}
