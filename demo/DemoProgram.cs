using System.CommandLine;
using EdgePatchCore.Diagnostics;

namespace EdgePatchCore.Demo;

/// <summary>The demo's command line: `demo --artifact P.pcb --frames DIR [options]`.</summary>
public static class DemoProgram
{
    public const int ExitOk = ExitCodes.Ok, ExitFailure = ExitCodes.Failure, ExitUsage = ExitCodes.Usage;

    public static async Task<int> Main(string[] args) => await RunAsync(args, Console.Out, Console.Error);

    /// <summary>Refuses a value outside the range; a value that is not a number at all is reported by the parser itself.</summary>
    private static void AddCheck<T>(Option<T> option, Func<T?, bool> ok, string problem) =>
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0) return; // the default
            try { if (!ok(result.GetValueOrDefault<T>())) result.AddError(problem); }
            catch (InvalidOperationException) { } // not a number: the parse error says so
        });

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var artifact = new Option<string>("--artifact") { Description = "the .pcb model", HelpName = "P.pcb", Required = true };
        var frames = new Option<string>("--frames") { Description = "folder of images a camera would deliver", HelpName = "DIR", Required = true };
        var limit = new Option<int?>("--limit") { Description = "at most this many images (default: all)", HelpName = "N" };
        var repeat = new Option<int>("--repeat") { Description = "cycle through the images N times (soak runs)", HelpName = "N",
            DefaultValueFactory = _ => 1 };
        var rate = new Option<double>("--rate") { Description = "frames per second to drop (0: as fast as they copy)", HelpName = "FPS" };
        var web = new Option<string>("--web") { Description = "the live page's address on this machine, or off", HelpName = "URL",
            DefaultValueFactory = _ => DemoRunner.DefaultPage };
        var hold = new Option<bool>("--hold") { Description = "keep the live page up after the last frame until Ctrl-C" };
        AddCheck(limit, v => v is null or >= 1, "--limit must be a positive number");
        AddCheck(repeat, v => v >= 1, "--repeat must be a positive number");
        AddCheck(rate, v => v >= 0, "--rate must be a positive number of frames per second");
        var root = new RootCommand(
            "EdgePatchCore demo: the real agent against an in-process MQTT broker. Copies the images into a watched folder as a " +
            "camera would and prints every verdict a SCADA subscriber receives.")
        { artifact, frames, limit, repeat, rate, web, hold };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) await error.WriteLineAsync($"error: {e.Message} (see demo --help)");
            return ExitUsage;
        }
        if (parsed.Action is not null)
            return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }); // --help, --version
        var options = new DemoOptions(parsed.GetValue(artifact)!, parsed.GetValue(frames)!, parsed.GetValue(limit) ?? int.MaxValue,
            parsed.GetValue(repeat),
            parsed.GetValue(rate), parsed.GetValue(web)!, parsed.GetValue(hold));
        try
        {
            return await DemoRunner.RunAsync(options, output);
        }
        catch (UserFacingException e)
        {
            await error.WriteLineAsync(e is UsageException ? $"error: {e.Message} (see demo --help)" : $"error: {e.Message}");
            return e.ExitCode;
        }
    }
}
