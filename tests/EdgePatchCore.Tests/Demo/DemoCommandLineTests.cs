using EdgePatchCore.Demo;

namespace EdgePatchCore.Tests.Demo;

/// <summary>The demo's command line: help, and a clear line with exit code 2 for every mistake.</summary>
public class DemoCommandLineTests
{
    private static async Task<(int Code, string Out, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await DemoProgram.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Help_lists_the_options_with_their_defaults()
    {
        var r = await Run("--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("--artifact", r.Out);
        Assert.Contains("--hold", r.Out);
        Assert.Contains("http://127.0.0.1:8080", r.Out);
    }

    [Fact]
    public async Task Mistakes_are_one_line_each_with_exit_code_2()
    {
        using var work = new TempFolder();
        File.WriteAllBytes(work.File("m.pcb"), [1, 2, 3]);
        var cases = new (string[] Args, string Says)[]
        {
            ([], "--artifact"),
            (["--artifact", work.File("nowhere.pcb"), "--frames", work.Path], "does not exist"),
            (["--artifact", work.File("m.pcb"), "--frames", work.File("none")], "does not exist"),
            (["--artifact", work.File("m.pcb"), "--frames", work.Path, "--limit", "0"], "--limit must be a positive number"),
            (["--artifact", work.File("m.pcb"), "--frames", work.Path, "--rate", "x"], "--rate"),
            (["--artifact", work.File("m.pcb"), "--frames", work.Path, "--web", "http://10.1.2.3:80"], "--web must be"),
            (["--artifact", work.File("m.pcb"), "--frames", work.Path], "no images in"),
        };
        foreach (var (args, says) in cases)
        {
            var r = await Run(args);
            Assert.True(r.Code == 2, $"{string.Join(' ', args)}: exit {r.Code}, {r.Error}");
            Assert.Contains(says, r.Error);
            Assert.DoesNotContain("   at ", r.Error);
        }
    }
}
