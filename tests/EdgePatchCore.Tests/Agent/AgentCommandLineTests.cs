using System.Diagnostics;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Imaging;
using EdgePatchCore.Search;

namespace EdgePatchCore.Tests.Agent;

/// <summary>The agent executable's own command line, run as a real process.</summary>
public class AgentCommandLineTests
{
    private static (int Code, string Out, string Error) Agent(params string[] args) => Agent(new Dictionary<string, string>(), args);

    private static (int Code, string Out, string Error) Agent(Dictionary<string, string> environment, params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "agent.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "agent did not exit");
        return (process.ExitCode, output.Result, error.Result);
    }

    [Fact]
    public void Help_lists_the_commands_and_keys()
    {
        var r = Agent("--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("check-config", r.Out);
        Assert.Contains("Agent:Sources:Folder:Path", r.Out);
        Assert.DoesNotContain("  demo", r.Out); // the demo is its own program, not an agent command
    }

    [Fact]
    public void A_bad_configuration_is_refused_with_one_line_per_problem_and_exit_code_78()
    {
        using var folder = new TempFolder();
        string config = folder.File("agent.json");
        File.WriteAllText(config, """
            { "Agent": { "Device": "tpu", "BankPrecision": "int4", "Artifact": "/nowhere/model.pcb", "StateDirectory": "STATE",
                         "Broker": { "Port": 70000 }, "Sources": { "Http": { "Url": "ftp://camera/snap.jpg" } } } }
            """.Replace("STATE", folder.File("state")));
        foreach (var args in new[] { new[] { "check-config", "--config", config }, new[] { "--config", config } })
        {
            var r = Agent(args);
            Assert.Equal(78, r.Code);
            Assert.Contains("Agent:Device is 'tpu'", r.Error);
            Assert.Contains("Agent:BankPrecision is 'int4': use auto, float32, float16 or int8", r.Error);
            Assert.Contains("70000 is not a TCP port", r.Error);
            Assert.Contains("ftp://camera/snap.jpg", r.Error);
            Assert.DoesNotContain("   at ", r.Error);
            if (args[0] == "check-config") Assert.Contains("/nowhere/model.pcb: no such file", r.Error);
        }
    }

    [Fact]
    public void Environment_variables_override_the_file_and_the_command_line_overrides_both()
    {
        using var folder = new TempFolder();
        string config = folder.File("agent.json");
        File.WriteAllText(config, $$"""
            { "Agent": { "Device": "cpu", "DeviceId": "from-file", "StateDirectory": "{{folder.File("state")}}",
                         "Sources": { "Folder": { "Path": "{{folder.File("in")}}" } } } }
            """);
        var env = new Dictionary<string, string> { ["EDGEPATCHCORE__Agent__Device"] = "tpu", ["EDGEPATCHCORE__Agent__DeviceId"] = "from-env" };
        var fromEnv = Agent(env, "check-config", "--config", config);
        Assert.Contains("Agent:Device is 'tpu'", fromEnv.Error);
        Assert.Contains("device id from-env", fromEnv.Out);
        var fromArgs = Agent(env, "check-config", "--config", config, "--Agent:DeviceId=from-args", "--Agent:Device=cpu");
        Assert.DoesNotContain("Agent:Device is", fromArgs.Error);
        Assert.Contains("device id from-args", fromArgs.Out);
    }

    [Fact]
    public void Usage_mistakes_exit_2_without_a_stack_trace()
    {
        var unknown = Agent("frobnicate");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("unknown command", unknown.Error);
        var missing = Agent("--config", "/nowhere/agent.json");
        Assert.Equal(2, missing.Code);
        Assert.Contains("does not exist", missing.Error);
        var demo = Agent("demo", "--artifact");
        Assert.Equal(2, demo.Code);
        Assert.Contains("run bash demo.sh", demo.Error);
        Assert.DoesNotContain("   at ", unknown.Error + missing.Error + demo.Error);
    }

    [Fact]
    public void Misspelled_keys_syntax_errors_and_out_of_range_numbers_are_refused_with_exit_78_and_check_config_writes_nothing()
    {
        using var folder = new TempFolder();
        string state = folder.File("state");
        string config = folder.File("agent.json");
        File.WriteAllText(config, $$"""
            { "Agent": { "Artifact": "/nowhere/model.pcb", "StateDirectory": "{{state}}", "Brokr": { "Host": "x" }, "StateDir": "/tmp",
                         "Sources": { "Folder": { "Path": "/tmp", "Settle": 5 } },
                         "Publishing": { "MetricsIntervalSeconds": 1e-9 }, "Deployment": { "TransferExpiryMinutes": 1e300 },
                         "Pipeline": { "MaxBatchBytes": 1073741824, "MemoryMaxBytes": 1073741824 } },
              "Publish": { "Heatmaps": true } }
            """);
        foreach (var args in new[] { new[] { "check-config", "--config", config }, new[] { "--config", config } })
        {
            var r = Agent(args);
            Assert.Equal(78, r.Code);
            Assert.Contains("unknown setting Agent:Brokr (did you mean Agent:Broker?)", r.Error);
            Assert.Contains("unknown setting Agent:StateDir (did you mean Agent:StateDirectory?)", r.Error);
            Assert.Contains("unknown setting Agent:Sources:Folder:Settle (did you mean Agent:Sources:Folder:SettleMilliseconds?)", r.Error);
            Assert.Contains("unknown setting Publish (did you mean Agent:Publishing?)", r.Error);
            Assert.Contains("Agent:Publishing:MetricsIntervalSeconds must be 0.1..86400", r.Error);
            Assert.Contains("Agent:Deployment:TransferExpiryMinutes must be 0.05..10080", r.Error);
            Assert.Contains("MemoryMax", r.Error); // the batch cannot fit in the memory the agent may use
            Assert.DoesNotContain("   at ", r.Error);
        }
        Assert.False(Directory.Exists(state), "check-config (and a refused start) must leave the state directory alone");

        File.WriteAllText(config, """
            { "Agent": { "Artifact": "/nowhere/model.pcb"
                         "DeviceId": "x" } }
            """);
        foreach (var args in new[] { new[] { "check-config", "--config", config }, new[] { "--config", config } })
        {
            var r = Agent(args);
            Assert.Equal(78, r.Code);
            Assert.StartsWith($"error: {config}: not valid JSON at line 2, column 14", r.Error);
            Assert.Equal(2, r.Error.Trim().Split('\n').Length); // the one line, and what to do
        }
    }

    [Fact]
    public void Check_config_says_whether_unsigned_derived_models_are_allowed()
    {
        using var folder = new TempFolder();
        string config = folder.File("agent.json");
        File.WriteAllText(config, $$"""
            { "Agent": { "Artifact": "/nowhere/model.pcb", "StateDirectory": "{{folder.File("state")}}", "Sources": { "Folder": { "Path": "/tmp" } },
                         "Teach": { "OnDevice": true } } }
            """);
        var r = Agent("check-config", "--config", config);
        Assert.Contains("unsigned derived models allowed: yes", r.Out);
        Assert.Contains("teaching: off (no Agent:Teach:SecretFile)", r.Out);
    }

    [Fact]
    public void Validator_accepts_a_complete_configuration()
    {
        var o = new AgentOptions { Artifact = "m.pcb", Sources = new SourcesOptions { Folder = new FolderSourceOptions { Path = "/srv/drop" } } };
        Assert.Empty(OptionsValidator.Validate(o));
        Assert.Equal($"edgepatchcore/{o.DeviceId}", o.ResolvedTopicPrefix);
        o.DeviceId = "line+1";
        Assert.Single(OptionsValidator.Validate(o));
    }

    [Fact]
    public void Defect_regions_map_back_to_frame_pixels()
    {
        var map = new float[224 * 224];
        for (int y = 100; y < 120; y++)
            for (int x = 10; x < 30; x++) map[y * 224 + x] = 5;
        var stretched = InputGeometry.RegionAbove(map, 224, 224, 4, new InputSpec(), 448, 112);
        Assert.Equal(new PixelRegion(20, 50, 40, 10), stretched);
        var letterboxed = InputGeometry.RegionAbove(map, 224, 224, 4, new InputSpec { Mode = ResizeMode.Letterbox }, 448, 224); // 224 x 112 band at y 56
        Assert.Equal(new PixelRegion(20, 88, 40, 40), letterboxed);
        Assert.Null(InputGeometry.RegionAbove(map, 224, 224, 6, new InputSpec(), 448, 112));
    }
}
