using EdgePatchCore.Trainer;

namespace EdgePatchCore.Tests.Cli;

public sealed record RunResult(int ExitCode, string Out, string Error)
{
    /// <summary>A user mistake must never print a .NET stack trace.</summary>
    public void AssertNoStackTrace()
    {
        Assert.DoesNotContain("   at ", Error);
        Assert.DoesNotContain("Exception:", Error);
    }
}

public static class TrainerRunner
{
    public static RunResult Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = TrainerApp.Run(args, o, e);
        return new RunResult(code, o.ToString(), e.ToString());
    }
}
