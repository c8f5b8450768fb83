using EdgePatchCore.Trainer;
using EdgePatchCore.Trainer.Cli;
using EdgePatchCore.Trainer.Commands;
using EdgePatchCore.Training;
using EdgePatchCore.Tests.Cli;

namespace EdgePatchCore.Tests.Training;

public class BuildPresetTests
{
    private static BuildOptions Parse(params string[] args) =>
        BuildCommand.ParseOptions(TrainerApp.Parse(new BuildCommand(), ["--product", "p", .. args]));

    [Fact]
    public void Balanced_is_the_default_and_the_papers_settings()
    {
        var o = Parse();
        Assert.Equal("balanced", o.Preset);
        Assert.Equal(224, o.Input.Width);
        Assert.Equal(0.1, o.CoresetFraction);
        Assert.Equal(1024, o.Backbone.TargetDimensions);
        Assert.Equal(["layer2", "layer3"], o.Backbone.Layers);
        Assert.Equal(o.Describe(), Parse("--preset", "balanced").Describe());
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("accurate")]
    public void A_preset_supplies_its_defaults_and_explicit_options_win(string name)
    {
        var preset = BuildPreset.Parse(name);
        var o = Parse("--preset", name);
        Assert.Equal(name, o.Preset);
        Assert.Equal(preset.Size, o.Input.Width);
        Assert.Equal(preset.Size, o.Input.Height);
        Assert.Equal(preset.CoresetFraction, o.CoresetFraction);
        Assert.Equal(preset.Dimensions, o.Backbone.TargetDimensions);
        Assert.Equal(preset.Layers.Split(','), o.Backbone.Layers);
        Assert.Equal(name, o.Describe()["preset"]);

        var overridden = Parse("--preset", name, "--size", "200", "--coreset", "0.05");
        Assert.Equal(200, overridden.Input.Width);
        Assert.Equal(0.05, overridden.CoresetFraction);
    }

    [Fact]
    public void An_unknown_preset_or_mask_protocol_is_a_usage_error()
    {
        var r = TrainerRunner.Run("build", "--product", "p", "--preset", "turbo");
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
        Assert.Contains("fast, balanced, accurate", r.Error);
        r.AssertNoStackTrace();
        r = TrainerRunner.Run("evaluate", "x.pcb", "--data", ".", "--mask-protocol", "mvtec");
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
        Assert.Contains("ours, official or both", r.Error);
        r = TrainerRunner.Run("build", "--product", "p", "--calibration", ".", "--calibration-folds", "3");
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
    }
}
