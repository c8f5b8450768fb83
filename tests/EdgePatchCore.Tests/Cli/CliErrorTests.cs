using EdgePatchCore.Trainer;

namespace EdgePatchCore.Tests.Cli;

public class CliErrorTests
{
    [Theory]
    [InlineData("synth")]
    [InlineData("build")]
    [InlineData("evaluate")]
    [InlineData("score")]
    [InlineData("inspect")]
    public void Every_command_has_help(string command)
    {
        var r = TrainerRunner.Run(command, "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:", r.Out);
        Assert.Contains($"trainer {command} ", r.Out);
        Assert.Contains("--help", r.Out);
        if (command is "build" or "score") Assert.Contains("(default: ", r.Out); // defaults come from the option definitions
    }

    [Fact]
    public void The_usage_line_reads_as_usage_not_as_an_argument()
    {
        var build = TrainerRunner.Run("build", "--help");
        Assert.Contains("usage: trainer build --product P [--data DIR]", build.Out);
        Assert.DoesNotContain("Arguments:", build.Out); // build takes no positional arguments
        Assert.DoesNotContain("<--product", build.Out);
        var score = TrainerRunner.Run("score", "--help");
        Assert.Contains("<P.pcb IMAGE...>", score.Out); // the names a positional argument takes, nothing more
        Assert.DoesNotContain("<P.pcb IMAGE... [--heatmap", score.Out);
    }

    [Fact]
    public void No_arguments_prints_the_overview_and_fails()
    {
        var r = TrainerRunner.Run();
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
        Assert.Contains("build", r.Error);
    }

    [Fact]
    public void Unknown_command_and_option_are_usage_errors()
    {
        var r = TrainerRunner.Run("train");
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
        Assert.Contains("unknown command 'train'", r.Error);
        r = TrainerRunner.Run("build", "--product", "x", "--corset", "0.1");
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
        Assert.Contains("unknown option --corset", r.Error);
        r.AssertNoStackTrace();
    }

    [Fact]
    public void Build_without_product_is_one_clear_line()
    {
        var r = TrainerRunner.Run("build", "--out", "x.pcb");
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
        Assert.Contains("missing --product", r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
    }

    [Fact]
    public void Missing_data_folder_names_the_default_and_the_fix()
    {
        var r = TrainerRunner.Run("build", "--product", "no-such-product-xyz");
        Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
        Assert.Contains("data folder not found: datasets/no-such-product-xyz", r.Error);
        Assert.Contains("trainer synth", r.Error);
        r.AssertNoStackTrace();
    }

    [Fact]
    public void Empty_data_folder_fails_clearly()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("empty"));
        var r = TrainerRunner.Run("build", "--product", "p", "--data", dir.File("empty"), "--out", dir.File("p.pcb"));
        Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
        Assert.Contains("no training images", r.Error);
        r.AssertNoStackTrace();
        Assert.False(File.Exists(dir.File("p.pcb")));
    }

    [Fact]
    public void Unwritable_output_fails_before_any_work()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("imgs"));
        var r = TrainerRunner.Run("build", "--product", "p", "--data", dir.File("imgs"), "--out", dir.File("no/such/folder/p.pcb"));
        Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
        Assert.Contains("cannot write", r.Error);
        r.AssertNoStackTrace();
    }

    [Fact]
    public void Bad_option_values_are_usage_errors()
    {
        var r = TrainerRunner.Run("build", "--product", "p", "--coreset", "abc");
        Assert.Equal(TrainerApp.ExitUsage, r.ExitCode);
        Assert.Contains("--coreset must be a number", r.Error);
        r = TrainerRunner.Run("build", "--product", "p", "--resize", "squash");
        Assert.Contains("unknown resize mode 'squash'", r.Error);
        r = TrainerRunner.Run("build", "--product", "p", "--device", "tpu");
        Assert.Contains("unknown device 'tpu'", r.Error);
    }

    [Fact]
    public void Inspect_and_evaluate_refuse_a_damaged_artifact()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("zero.pcb"), []);
        var r = TrainerRunner.Run("inspect", dir.File("zero.pcb"));
        Assert.Equal(TrainerApp.ExitFailure, r.ExitCode);
        Assert.Contains("empty file", r.Error);
        r = TrainerRunner.Run("inspect", dir.File("missing.pcb"));
        Assert.Contains("no such file", r.Error);
        r.AssertNoStackTrace();
    }
}
