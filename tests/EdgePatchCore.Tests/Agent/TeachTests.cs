using System.Text;
using System.Text.Json;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Tests.Cli;
using EdgePatchCore.Agent.Teach;
using Microsoft.Extensions.Logging.Abstractions;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

/// <summary>The frames the agent keeps, bounded, and found again after a restart.</summary>
public class FrameStoreTests
{
    private static Verdict V(string id, string result = Verdict.Ok) => new()
    {
        FrameId = id, Source = "test", Product = "gasket", CapturedAt = DateTimeOffset.UtcNow, ScoredAt = DateTimeOffset.UtcNow,
        Result = result, Score = 1, Threshold = 2, LatencyMs = new VerdictLatency(1, 1, 2),
    };

    [Fact]
    public void Rejects_kept_apart_survive_a_long_run_of_good_parts()
    {
        using var folder = new TempFolder();
        var store = new FrameStore(folder.Path, maxFrames: 3, maxBytes: 1 << 20, NullLogger.Instance, maxRejects: 2);
        store.Add("bad1", new byte[10], V("bad1", Verdict.Defect));
        store.Add("err1", new byte[10], V("err1", Verdict.Error));
        for (int i = 0; i < 50; i++) store.Add($"ok{i}", new byte[10], V($"ok{i}"));
        Assert.NotNull(store.Find("bad1"));
        Assert.NotNull(store.Find("err1"));
        Assert.Null(store.Find("ok46"));
        Assert.Equal(5, store.Count);
        store.Add("bad2", new byte[10], V("bad2", Verdict.Defect));
        Assert.Null(store.Find("bad1")); // the rejects' own bound
        Assert.Equal(5, new FrameStore(folder.Path, maxFrames: 3, maxBytes: 1 << 20, NullLogger.Instance, maxRejects: 2).Count);
    }

    [Fact]
    public void Review_frames_are_kept_with_the_rejects_for_the_operator()
    {
        using var folder = new TempFolder();
        var store = new FrameStore(folder.Path, maxFrames: 3, maxBytes: 1 << 20, NullLogger.Instance, maxRejects: 2);
        store.Add("review1", new byte[10], V("review1") with { Review = true });
        for (int i = 0; i < 50; i++) store.Add($"ok{i}", new byte[10], V($"ok{i}") with { Review = false });
        Assert.NotNull(store.Find("review1")); // an ok part in the REVIEW band outlives the run of good parts
        Assert.Null(store.Find("ok0"));
    }

    [Fact]
    public void Keeps_the_newest_frames_within_count_and_bytes_and_finds_them_by_id_after_a_restart()
    {
        using var folder = new TempFolder();
        var store = new FrameStore(folder.Path, maxFrames: 3, maxBytes: 1 << 20, NullLogger.Instance);
        for (int i = 0; i < 5; i++) store.Add($"f{i}", new byte[100], V($"f{i}"));
        Assert.Equal(3, store.Count);
        Assert.Null(store.Find("f1"));
        Assert.NotNull(store.Find("f4"));
        Assert.Equal(6, Directory.GetFiles(folder.Path).Length); // image and verdict of each kept frame, nothing else

        Assert.False(store.IsAmbiguous("f4"));
        Assert.Equal(KeepResult.RepeatedId, store.Add("f4", new byte[200], V("f4"))); // first come: a later frame never replaces a kept one
        Assert.Equal(100, store.Find("f4")!.Bytes);
        Assert.True(store.IsAmbiguous("f4")); // and a mark naming that id cannot say which frame it meant
        Assert.Equal(3, store.Count);

        var reopened = new FrameStore(folder.Path, maxFrames: 3, maxBytes: 1 << 20, NullLogger.Instance);
        Assert.Equal(100, reopened.Find("f4")!.Bytes);
        Assert.True(reopened.IsAmbiguous("f4"));
        Assert.Equal(store.Count, reopened.Count);

        var small = new FrameStore(folder.Path, maxFrames: 10, maxBytes: 150, NullLogger.Instance); // bytes bound the rest
        Assert.Equal(1, small.Count);
        Assert.NotNull(small.Find("f4"));
    }
}

/// <summary>{prefix}/teach end to end: a real agent host, a real mosquitto, frames dropped into its folder.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class TeachTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Operators_mark_frames_good_and_get_an_answer_for_every_id()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("teach-test", work, settleMilliseconds: 100);
        config["Agent:Teach:MaxTaught"] = "2";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/teach-test/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        for (int i = 0; i < 3; i++) TestData.DropCopy(work.File("inbox"), $"cam1-{i:D4}.png", fixture.Pngs[i]);
        TestData.Drop(work.File("inbox"), "cam1-broken.png", "not an image"u8.ToArray());
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 4, Patience), "frames were not scored");

        async Task<JsonElement> Teach(byte[] message, int answers)
        {
            await probe.PublishAsync("edgepatchcore/teach-test/teach", message);
            Assert.True(await probe.WaitForAsync(p => p.Messages("/teach/status").Count == answers, Patience), "no answer on teach/status");
            return probe.Messages("/teach/status")[^1].Json;
        }
        static string[] List(JsonElement status, string name) => status.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();

        byte[] T(string[] ids, string label = "good", string? product = null, string? @operator = null, string? note = null) =>
            AgentFixture.TeachMessage("teach-test", ids, label, @operator, note, product);
        var first = await Teach(T(["cam1-0000.png", "cam1-0002.png", "cam1-9999.png"], @operator: "j.smith", note: "new belt"), 1);
        Assert.Equal(["cam1-0000.png", "cam1-0002.png"], List(first, "accepted"));
        Assert.Equal(["cam1-9999.png"], List(first, "unknown"));
        Assert.Equal(2, first.GetProperty("teachSetSize").GetInt32());

        // The same marks again change nothing; an error frame, another product and another label are refused with the reason.
        var again = await Teach(T(["cam1-0000.png", "cam1-broken.png"]), 2);
        Assert.Equal(["cam1-0000.png"], List(again, "alreadyTaught"));
        Assert.Equal(["cam1-broken.png"], List(again, "unknown")); // a frame that was not scored is not kept: it cannot teach anything
        var full = await Teach(T(["cam1-0001.png"]), 3); // Agent:Teach:MaxTaught = 2
        Assert.Contains("the teach set is full", full.GetProperty("refused")[0].GetProperty("reason").GetString());
        var product = await Teach(T(["cam1-0001.png"], product: "bracket"), 4);
        Assert.Contains("is product 'gasket', not 'bracket'", product.GetProperty("refused")[0].GetProperty("reason").GetString());
        var label = await Teach(T(["cam1-0001.png"], label: "bad"), 5);
        Assert.Contains("only \"good\"", label.GetProperty("error").GetString());
        var empty = await Teach(T([]), 6);
        Assert.Contains("at least one frame id", empty.GetProperty("error").GetString());
        await probe.PublishAsync("edgepatchcore/teach-test/teach", Encoding.UTF8.GetBytes("{not json"));
        Assert.True(await probe.WaitForAsync(p => p.Messages("/teach/status").Count == 7, Patience));
        Assert.Contains("not a teach message", probe.Messages("/teach/status")[^1].Json.GetProperty("error").GetString());

        // The teach set: the two images, byte for byte, and a manifest naming who taught them and what the model said.
        string teach = Path.Combine(work.File("state"), "teach");
        var files = Directory.GetFiles(Path.Combine(teach, "good")).Order().ToArray();
        Assert.Equal(2, files.Length);
        Assert.All(files, f => Assert.EndsWith(".png", f));
        Assert.Equal(File.ReadAllBytes(fixture.Pngs[0]), File.ReadAllBytes(files.Single(f => Path.GetFileName(f).StartsWith("cam1-0000", StringComparison.Ordinal))));
        string[] lines = File.ReadAllLines(Path.Combine(teach, "manifest.jsonl"));
        Assert.Equal(2, lines.Length); // one line per taught frame, appended
        using var manifest = JsonDocument.Parse(lines[0]);
        var entry = manifest.RootElement;
        Assert.Equal("cam1-0000.png", entry.GetProperty("frameId").GetString());
        Assert.Equal("scada", entry.GetProperty("by").GetString()); // who authenticated the mark
        Assert.Equal("j.smith", entry.GetProperty("operator").GetString()); // the name that sender reported
        Assert.Equal("gasket", entry.GetProperty("product").GetString());
        Assert.Equal(probe.Verdicts().Single(v => v.FrameId == "cam1-0000.png").Score, entry.GetProperty("score").GetSingle());
    }
}

/// <summary>The whole teach loop against a real mosquitto: score, teach, collect, extend, deploy, serve the child.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class TeachLoopTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Taught_frames_are_collected_extended_deployed_and_served()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("teach-loop", work, settleMilliseconds: 100);
        string served = work.File("served.pcb");
        string parentId = fixture.Signed(fixture.ModelA, served, version: 1);
        config["Agent:Artifact"] = served;
        config["Agent:TrustedKeys:0"] = fixture.PlantPublicKey;
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/teach-loop/#");
        string[] sign = ["--sign", fixture.PlantKey];
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        string broker = $"127.0.0.1:{fixture.Broker.Port}";

        // 1. Frames are scored; an operator marks two of them good.
        for (int i = 0; i < 4; i++) TestData.DropCopy(work.File("inbox"), $"line-{i}.png", fixture.Pngs[i == 3 ? 5 : i]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 4, Patience), "frames were not scored");
        await probe.PublishAsync("edgepatchcore/teach-loop/teach", AgentFixture.TeachMessage("teach-loop", ["line-0.png", "line-3.png"], @operator: "op1"));
        Assert.True(await probe.WaitForAsync(p => p.Messages("/teach/status").Count == 1, Patience), "no teach answer");

        // 2. collect downloads exactly those frames, in small chunks; run again after an interruption, it resumes.
        string collected = work.File("collected");
        var collect = await Task.Run(() => TrainerRunner.Run(["collect", "--broker", broker, "--device", "teach-loop", "--out", collected, "--chunk-size", "4", "--timeout", "30", .. sign]));
        Assert.True(collect.ExitCode == 0, collect.Error + collect.Out);
        var files = Directory.GetFiles(Path.Combine(collected, "good")).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(2, files.Length);
        string first = Path.Combine(collected, "good", files[0]!);
        byte[] original = File.ReadAllBytes(first);
        Assert.True(original.Length > 3 * 4096, "the frame should take several chunks");
        Assert.Contains(new[] { File.ReadAllBytes(fixture.Pngs[0]), File.ReadAllBytes(fixture.Pngs[5]) }, b => b.AsSpan().SequenceEqual(original));
        File.Delete(first);
        File.WriteAllBytes(Path.Combine(collected, "good", "." + files[0] + ".part"), original[..(2 * 4096 + 100)]); // two chunks and a torn third
        var again = await Task.Run(() => TrainerRunner.Run(["collect", "--broker", broker, "--device", "teach-loop", "--out", collected, "--chunk-size", "4", "--timeout", "30", .. sign]));
        Assert.True(again.ExitCode == 0, again.Error + again.Out);
        Assert.Contains("1 fetched (1 resumed), 1 already here", again.Out);
        Assert.Equal(original, File.ReadAllBytes(first));
        using (var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(collected, "manifest.json"))))
        {
            Assert.Equal(["line-0.png", "line-3.png"], manifest.RootElement.GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("frameId").GetString()).Order());
            Assert.All(manifest.RootElement.GetProperty("frames").EnumerateArray(),
                       f => Assert.Equal(ArtifactFile.Read(served).Content.FeatureSpec(), f.GetProperty("featureSpec").GetString()));
        }
        // With everything here, --clear empties the device's teach set (it is bounded).
        var clear = await Task.Run(() => TrainerRunner.Run(["collect", "--broker", broker, "--device", "teach-loop", "--out", collected, "--clear", "--timeout", "30", .. sign]));
        Assert.True(clear.ExitCode == 0, clear.Error + clear.Out);
        Assert.Contains("2 already here", clear.Out);
        Assert.Contains("2 frame(s) removed, 0 left", clear.Out);

        // 3. extend (signed as a newer release) and deploy; the agent serves the child: its id in verdicts, the parent in the status.
        string child = work.File("child.pcb");
        var extend = TrainerRunner.Run("extend", served, "--add", collected, "--out", child, "--device", "cpu", "--sign", fixture.PlantKey, "--release-version", "2");
        Assert.True(extend.ExitCode == 0, extend.Error);
        var deploy = await Task.Run(() => TrainerRunner.Run("deploy", child, "--broker", broker, "--device", "teach-loop", "--timeout", "60"));
        Assert.True(deploy.ExitCode == 0, deploy.Error + deploy.Out);
        string childId = ArtifactFile.Read(child).Id;
        TestData.DropCopy(work.File("inbox"), "after.png", fixture.Pngs[1]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Any(v => v.FrameId == "after.png"), Patience), "no verdict after the deploy");
        Assert.Equal(childId, probe.Verdicts().Single(v => v.FrameId == "after.png").Model!.Id);
        static List<ReceivedMessage> Statuses(MqttProbe p) => p.Messages("").Where(m => m.Topic == "edgepatchcore/teach-loop/status").ToList();
        Assert.True(await probe.WaitForAsync(p => Statuses(p).Any(m => m.Json.GetProperty("model").ValueKind == JsonValueKind.Object
            && m.Json.GetProperty("model").GetProperty("id").GetString() == childId), Patience), "the status does not name the child");
        var status = Statuses(probe).Last(m => m.Json.GetProperty("model").ValueKind == JsonValueKind.Object).Json.GetProperty("model");
        Assert.Equal(parentId, status.GetProperty("parent").GetString());

        // 4. Bad input: a teach set of another product is refused by extend; an empty teach set by collect.
        string foreign = work.File("foreign");
        Directory.CreateDirectory(Path.Combine(foreign, "good"));
        File.Copy(first, Path.Combine(foreign, "good", "a.png"));
        File.WriteAllText(Path.Combine(foreign, "manifest.json"), """{"frames": [{"frameId": "x", "product": "bracket"}]}""");
        var wrong = TrainerRunner.Run("extend", served, "--add", foreign, "--out", work.File("wrong.pcb"), "--device", "cpu");
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("are of product 'bracket'", wrong.Error);
        File.WriteAllText(Path.Combine(foreign, "manifest.json"), """{"frames": [{"frameId": "x", "product": "gasket", "featureSpec": "other.onnx; layer3; 512-d; 320x320 stretch"}]}""");
        var otherSpec = TrainerRunner.Run("extend", served, "--add", foreign, "--out", work.File("wrong.pcb"), "--device", "cpu");
        Assert.NotEqual(0, otherSpec.ExitCode);
        Assert.Contains("another backbone or input", otherSpec.Error);
        var empty = await Task.Run(() => TrainerRunner.Run(["collect", "--broker", broker, "--device", "teach-loop", "--out", work.File("none"), "--timeout", "30", .. sign]));
        Assert.NotEqual(0, empty.ExitCode);
        Assert.Contains("is empty", empty.Error);
        foreach (var r in new[] { wrong, otherSpec, empty }) r.AssertNoStackTrace();
    }
}

/// <summary>Agent:Teach:OnDevice: the agent extends its own model with what it is taught and serves it, marked as derived.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class OnDeviceTeachTests(AgentFixture fixture)
{
    [Fact]
    public async Task Taught_frames_extend_the_served_model_on_the_device_and_its_verdicts_say_so()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("teach-device", work, settleMilliseconds: 100);
        config["Agent:Teach:OnDevice"] = "true";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/teach-device/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        string parent = ArtifactFile.Read(fixture.ModelA).Id;
        for (int i = 0; i < 3; i++) TestData.DropCopy(work.File("inbox"), $"d{i}.png", fixture.Pngs[i]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 3, TimeSpan.FromSeconds(90)));
        await probe.PublishAsync("edgepatchcore/teach-device/teach", AgentFixture.TeachMessage("teach-device", ["d0.png", "d1.png"]));
        Assert.True(await probe.WaitForAsync(p => p.Messages("/event").Any(m => m.Json.GetProperty("type").GetString() == "model-derived"), TimeSpan.FromSeconds(90)),
                    string.Join("\n", probe.Messages("/event").Select(m => System.Text.Encoding.UTF8.GetString(m.Payload))));
        string derived = probe.Messages("/event").First(m => m.Json.GetProperty("type").GetString() == "model-derived").Json.GetProperty("details").GetProperty("model").GetString()!;
        Assert.NotEqual(parent, derived);

        TestData.DropCopy(work.File("inbox"), "after.png", fixture.Pngs[3]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Any(v => v.FrameId == "after.png"), TimeSpan.FromSeconds(90)));
        var json = probe.Messages("/verdict").Select(m => m.Json).Single(j => j.GetProperty("frameId").GetString() == "after.png").GetProperty("model");
        Assert.Equal(derived, json.GetProperty("id").GetString());
        Assert.Equal(parent, json.GetProperty("derivedFrom").GetString());
        var before = probe.Messages("/verdict").Select(m => m.Json).Single(j => j.GetProperty("frameId").GetString() == "d0.png").GetProperty("model");
        Assert.False(before.TryGetProperty("derivedFrom", out _)); // verdicts of signed or file models are unchanged
    }

    [Fact]
    public void Under_required_signatures_on_device_teaching_must_be_allowed_explicitly()
    {
        var options = new EdgePatchCore.Agent.Configuration.AgentOptions
        {
            Artifact = "m.pcb", TrustedKeys = [fixture.PlantPublicKey], Sources = new() { Folder = new() { Path = "/tmp" } },
            Teach = new() { OnDevice = true },
        };
        Assert.Contains(new TeachOptionsValidation().Problems(options), p => p.Contains("AllowUnsignedDerived", StringComparison.Ordinal));
        options.Teach.AllowUnsignedDerived = true;
        Assert.DoesNotContain(new TeachOptionsValidation().Problems(options), p => p.Contains("Agent:Teach", StringComparison.Ordinal));
    }
}
