namespace EdgePatchCore.Tests.Cli;

/// <summary>Shell completion comes from the command tree that parses: commands, then the command's own options.</summary>
public class CompletionTests
{
    private static string[] Complete(int current, params string[] words)
    {
        var r = TrainerRunner.Run(["completion", "--complete", current.ToString(), "--", .. words]);
        Assert.Equal(0, r.ExitCode);
        return r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void Completes_commands_then_each_commands_options()
    {
        Assert.Equal(["build"], Complete(1, "trainer", "bu"));
        Assert.Contains("evaluate", Complete(1, "trainer", ""));
        Assert.Equal(["--coreset", "--coreset-size"], Complete(2, "trainer", "build", "--cor"));
        Assert.Contains("--precision", Complete(3, "trainer", "score", "m.pcb", "--p"));
        Assert.DoesNotContain("--tile", Complete(2, "trainer", "score", "--"));
    }

    [Fact]
    public void Prints_a_bash_script_that_calls_back_into_the_trainer()
    {
        var r = TrainerRunner.Run("completion", "bash");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("complete -o default -F _trainer_complete trainer", r.Out);
        Assert.Contains("trainer completion --complete", r.Out);
        Assert.Equal(2, TrainerRunner.Run("completion", "fish").ExitCode);
    }
}
