using System.Net;
using System.Text.Json;
using EdgePatchCore.Agent.Mqtt;
using Microsoft.Extensions.Hosting;
using EdgePatchCore.Search;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

/// <summary>Each frame source, end to end through a real agent host and a real mosquitto: one verdict per frame, trainer's scores.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class AgentSourceTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Folder_source_gives_one_verdict_per_file_with_the_design_schema_and_trainer_scores()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("folder-test", work, settleMilliseconds: 100);
        string inbox = work.File("inbox");
        // The per-device threshold override (the tiny test model's calibrated threshold passes everything).
        config.Remove("Agent:Artifact");
        config["Agent:Models:0:Artifact"] = fixture.ModelA;
        config["Agent:Models:0:Threshold"] = "31";
        config["Agent:Publishing:Heatmaps"] = "true";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/folder-test/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);

        var names = fixture.Pngs.Select((p, i) => $"f{i}_{Path.GetFileName(p)}").ToList();
        for (int i = 0; i < names.Count; i++) TestData.DropCopy(inbox, names[i], fixture.Pngs[i]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= names.Count, Patience), "verdicts did not arrive");
        Assert.True(await probe.WaitForAsync(p => p.Messages("/metrics").Count > 0, Patience), "no metrics"); // every second while connected
        await Task.Delay(500); // no extra verdicts may follow
        await host.StopAsync();

        var messages = probe.Messages("/verdict");
        Assert.Equal(names.Count, messages.Count);
        Assert.Equal(names.Order(), messages.Select(m => m.Json.GetProperty("frameId").GetString()!).Order());
        var expected = fixture.TrainerScores(fixture.ModelA, fixture.Pngs);
        var model = EdgePatchCore.Artifacts.ArtifactFile.Read(fixture.ModelA);
        foreach (var m in messages)
        {
            var json = m.Json;
            AssertSchema(json);
            Assert.Equal("folder", json.GetProperty("source").GetString());
            Assert.Equal("gasket", json.GetProperty("product").GetString());
            Assert.Equal(model.Id, json.GetProperty("model").GetProperty("id").GetString());
            int index = names.IndexOf(json.GetProperty("frameId").GetString()!);
            AssertClose(expected[fixture.Pngs[index]], json.GetProperty("score").GetDouble());
            double score = json.GetProperty("score").GetDouble(), threshold = json.GetProperty("threshold").GetDouble();
            Assert.Equal(31.0, threshold);
            Assert.Equal(score >= threshold ? "defect" : "ok", json.GetProperty("verdict").GetString());
            Assert.Equal(score / threshold, json.GetProperty("normalizedScore").GetDouble(), 5);
            Assert.Equal(json.GetProperty("verdict").GetString() == "defect", json.GetProperty("region").ValueKind == JsonValueKind.Object);
            Assert.Equal(JsonValueKind.Null, json.GetProperty("error").ValueKind);
            Assert.False(m.Retained);
        }
        Assert.Contains(messages, m => m.Json.GetProperty("verdict").GetString() == "defect");
        Assert.Contains(messages, m => m.Json.GetProperty("verdict").GetString() == "ok");
        Assert.Empty(Directory.GetFiles(inbox));
        Assert.Equal(names.Order(), Directory.GetFiles(Path.Combine(inbox, "done")).Select(Path.GetFileName).Order());
        // The retained status said online with this model, and a clean stop says offline.
        var status = probe.Messages("/status").Select(s => s.Json).ToList();
        Assert.Contains(status, s => s.GetProperty("state").GetString() == "online" && s.GetProperty("model").ValueKind == JsonValueKind.Object
                                     && s.GetProperty("model").GetProperty("id").GetString() == model.Id);
        Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Last().Json.GetProperty("state").GetString() == "offline", Patience));
        Assert.NotEmpty(probe.Messages("/metrics"));
        // One JPEG heat map per defect frame.
        var heatmaps = probe.Messages("/heatmap");
        Assert.Equal(messages.Count(m => m.Json.GetProperty("verdict").GetString() == "defect"), heatmaps.Count);
        Assert.All(heatmaps, h => Assert.Equal([0xFF, 0xD8], h.Payload[..2]));
    }

    [Fact]
    public async Task Int8_bank_in_the_agent_gives_the_float32_scores_of_the_trainer()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("int8-test", work, settleMilliseconds: 100);
        config["Agent:BankPrecision"] = "int8";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/int8-test/verdict");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        var files = fixture.Pngs.Take(3).ToList();
        for (int i = 0; i < files.Count; i++) TestData.DropCopy(work.File("inbox"), $"q{i}.png", files[i]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= files.Count, Patience), "verdicts did not arrive");
        await host.StopAsync();
        var expected = fixture.TrainerScores(fixture.ModelA, files); // float32, the default
        foreach (var v in probe.Verdicts())
            AssertClose(expected[files[int.Parse(v.FrameId[1..^4])]], v.Score!.Value);
    }

    [Fact]
    public async Task Mqtt_source_takes_frame_id_and_product_from_user_properties()
    {
        using var work = new TempFolder();
        var config = fixture.Config("mqtt-test", fixture.ModelA, work.File("state"));
        config["Agent:Sources:Mqtt:Topic"] = "plant/line1/camera1/image";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/mqtt-test/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Count > 0, Patience)); // subscribed by now

        for (int i = 0; i < fixture.Pngs.Count; i++)
            await probe.PublishAsync("plant/line1/camera1/image", File.ReadAllBytes(fixture.Pngs[i]), ("frameId", $"cam1-{i}"), ("product", "gasket"));
        await probe.PublishAsync("plant/line1/camera1/image", File.ReadAllBytes(fixture.Pngs[0])); // no properties: an id is made up
        await probe.PublishAsync("plant/line1/camera1/image", File.ReadAllBytes(fixture.Pngs[0]), ("frameId", "cam1-x"), ("product", "valve"));
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= fixture.Pngs.Count + 2, Patience));
        await Task.Delay(500);
        await host.StopAsync();

        var verdicts = probe.Verdicts();
        Assert.Equal(fixture.Pngs.Count + 2, verdicts.Count);
        var expected = fixture.TrainerScores(fixture.ModelA, fixture.Pngs);
        for (int i = 0; i < fixture.Pngs.Count; i++)
        {
            var v = Assert.Single(verdicts, v => v.FrameId == $"cam1-{i}");
            Assert.Equal("mqtt", v.Source);
            AssertClose(expected[fixture.Pngs[i]], v.Score!.Value);
        }
        Assert.Single(verdicts, v => v.FrameId.StartsWith("mqtt-") && v.Result != Verdict.Error);
        var wrongProduct = Assert.Single(verdicts, v => v.FrameId == "cam1-x");
        Assert.Equal(Verdict.Error, wrongProduct.Result);
        Assert.Contains("valve", wrongProduct.ErrorText);
    }

    [Fact]
    public async Task Mjpeg_source_splits_a_command_stream_into_frames()
    {
        using var work = new TempFolder();
        string stream = work.File("camera.mjpeg");
        SnapshotCamera.WriteMjpegStream(stream, fixture.Jpegs);
        var config = fixture.Config("mjpeg-test", fixture.ModelA, work.File("state"));
        config["Agent:Sources:Mjpeg:Command"] = "cat";
        config["Agent:Sources:Mjpeg:Arguments"] = stream;
        config["Agent:Sources:Mjpeg:RestartSeconds"] = "3600";
        config["Agent:Pipeline:QueueCapacity"] = "64";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/mjpeg-test/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= fixture.Jpegs.Count, Patience));
        await Task.Delay(500);
        await host.StopAsync();

        var verdicts = probe.Verdicts().OrderBy(v => long.Parse(v.FrameId.Split('-')[^1])).ToList();
        Assert.Equal(fixture.Jpegs.Count, verdicts.Count);
        var expected = fixture.TrainerScores(fixture.ModelA, fixture.Jpegs);
        for (int i = 0; i < verdicts.Count; i++)
        {
            Assert.Equal("mjpeg", verdicts[i].Source);
            AssertClose(expected[fixture.Jpegs[i]], verdicts[i].Score!.Value);
        }
    }

    [Fact]
    public async Task Http_source_polls_a_snapshot_url()
    {
        using var work = new TempFolder();
        using var camera = new SnapshotCamera(File.ReadAllBytes(fixture.Jpegs[2]), frames: 3); // three snapshots, then the camera fails
        var config = fixture.Config("http-test", fixture.ModelA, work.File("state"));
        config["Agent:Sources:Http:Url"] = camera.Url;
        config["Agent:Sources:Http:IntervalMilliseconds"] = "200";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/http-test/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 3 && camera.Served > 6, Patience));
        await Task.Delay(500);
        await host.StopAsync();

        var verdicts = probe.Verdicts();
        Assert.Equal(3, verdicts.Count); // the failing requests produce no frames, and the agent kept polling
        double expected = fixture.TrainerScores(fixture.ModelA, [fixture.Jpegs[2]])[fixture.Jpegs[2]];
        foreach (var v in verdicts)
        {
            Assert.Equal("http", v.Source);
            AssertClose(expected, v.Score!.Value);
        }
    }

    internal static void AssertSchema(JsonElement json)
    {
        string[] fields = ["schema", "frameId", "source", "partId", "camera", "product", "model", "capturedAt", "scoredAt", "verdict", "score",
                           "threshold", "normalizedScore", "region", "review", "latencyMs", "error"];
        Assert.Equal(fields.Order(), json.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("edgepatchcore.verdict/1", json.GetProperty("schema").GetString());
        if (json.GetProperty("model").ValueKind == JsonValueKind.Object)
            Assert.Equal(["createdAt", "id"], json.GetProperty("model").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(["decode", "infer", "total"], json.GetProperty("latencyMs").EnumerateObject().Select(p => p.Name).Order());
        if (json.GetProperty("region").ValueKind == JsonValueKind.Object)
        {
            Assert.Equal(["height", "width", "x", "y"], json.GetProperty("region").EnumerateObject().Select(p => p.Name).Order());
            Assert.True(json.GetProperty("region").GetProperty("width").GetInt32() > 0);
        }
        Assert.True(json.GetProperty("scoredAt").GetDateTimeOffset() >= json.GetProperty("capturedAt").GetDateTimeOffset().AddMinutes(-1));
    }

    /// <summary>`trainer score` prints 6 significant digits, so 1e-5 relative is the tightest fair comparison.</summary>
    internal static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-5 * Math.Abs(expected), $"score {actual} differs from trainer's {expected}");
}
