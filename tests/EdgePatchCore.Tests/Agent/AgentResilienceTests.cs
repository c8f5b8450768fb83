using System.Diagnostics;
using EdgePatchCore.Agent.Mqtt;
using Microsoft.Extensions.Hosting;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

/// <summary>The agent under trouble: broker outage, kill -9, bad frames, model hot swap.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class AgentResilienceTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Broker_outage_while_scoring_200_frames_loses_none()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("outage-test", work, settleMilliseconds: 0);
        string inbox = work.File("inbox");
        config["Agent:Pipeline:MaxBatch"] = "4";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/outage-test/verdict");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        var ids = Enumerable.Range(0, 200).Select(i => $"frame{i:D3}.png").ToList();
        for (int i = 0; i < ids.Count; i++) TestData.DropCopy(inbox, ids[i], fixture.Pngs[i % fixture.Pngs.Count]);

        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 20, Patience));
        fixture.Broker.Stop();
        int before = probe.Verdicts().Count;
        await Task.Delay(3000); // the agent keeps scoring into its outbox
        fixture.Broker.Start();

        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Select(v => v.FrameId).Distinct().Count() == ids.Count, Patience),
                    $"distinct verdicts: {probe.Verdicts().Select(v => v.FrameId).Distinct().Count()} of {ids.Count}");
        await host.StopAsync();
        Assert.True(before < ids.Count, "the outage should happen mid-stream");
        Assert.Equal(ids.Order(), probe.Verdicts().Select(v => v.FrameId).Distinct().Order());
        Assert.Equal(ids.Count, Directory.GetFiles(Path.Combine(inbox, "done")).Length);
        Assert.Empty(Directory.GetFiles(work.File("state/outbox"), "*.msg"));
    }

    [Fact]
    public async Task Kill_9_mid_stream_then_restart_publishes_every_accepted_frame()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("crash-test", work, settleMilliseconds: 0);
        string inbox = work.File("inbox");
        config["Agent:Pipeline:MaxBatch"] = "2";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/crash-test/#");
        await probe.StartAsync();
        // Enough frames that the first run is still scoring when the probe has seen five verdicts (the test model is small and fast).
        var ids = Enumerable.Range(0, 150).Select(i => $"frame{i:D3}.png").ToList();
        for (int i = 0; i < ids.Count; i++) TestData.DropCopy(inbox, ids[i], fixture.Pngs[i % fixture.Pngs.Count]);

        string States() => string.Join(",", probe.Messages("/status").Select(m => m.Json.GetProperty("state").GetString()));
        using (var first = AgentFixture.StartAgentProcess(config))
        {
            Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 5, Patience), "first run produced no verdicts");
            first.Kill(); // SIGKILL: no shutdown code runs
            first.WaitForExit();
        }
        int beforeRestart = probe.Verdicts().Select(v => v.FrameId).Distinct().Count();
        Assert.True(await probe.WaitForAsync(_ => States().EndsWith("offline"), TimeSpan.FromSeconds(30)), $"no Will: {States()}");
        Assert.True(beforeRestart < ids.Count, "the kill should happen mid-stream");

        using var second = AgentFixture.StartAgentProcess(config);
        try
        {
            Assert.True(await probe.WaitForAsync(p => p.Verdicts().Select(v => v.FrameId).Distinct().Count() == ids.Count, Patience),
                        $"distinct verdicts: {probe.Verdicts().Select(v => v.FrameId).Distinct().Count()} of {ids.Count}");
            Assert.Matches("online.*offline.*online", States());
            Assert.Equal(ids.Order(), probe.Verdicts().Select(v => v.FrameId).Distinct().Order());
        }
        finally
        {
            second.Kill();
            second.WaitForExit();
        }
    }

    [Fact]
    public async Task Bad_frames_get_error_verdicts_and_the_agent_keeps_serving()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("bad-frames-test", work, settleMilliseconds: 100);
        string inbox = work.File("inbox");
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/bad-frames-test/verdict");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);

        var jpeg = File.ReadAllBytes(fixture.Jpegs[0]);
        TestData.Drop(inbox, "a_corrupt.jpg", [.. jpeg[..600], .. new byte[400]]);
        TestData.Drop(inbox, "b_empty.png", []);
        TestData.Drop(inbox, "c_huge.png", TestData.PngHeader(30000, 30000));
        TestData.Drop(inbox, "d_notes.txt", "line 3 camera notes"u8.ToArray());
        using (var tiff = SixLabors.ImageSharp.Image.Load(fixture.Pngs[0])) SixLabors.ImageSharp.ImageExtensions.SaveAsTiff(tiff, work.File("frame.tif"));
        File.Move(work.File("frame.tif"), Path.Combine(inbox, "d_scan.tif")); // a real image, but TIFF is off for frames by default
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 5, Patience));
        TestData.DropCopy(inbox, "e_good.png", fixture.Pngs[0]); // still serving afterwards
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 6, Patience));
        await Task.Delay(300);
        await host.StopAsync();

        var verdicts = probe.Verdicts().ToDictionary(v => v.FrameId);
        Assert.Equal(6, verdicts.Count);
        Assert.Contains("corrupt", verdicts["a_corrupt.jpg"].ErrorText);
        Assert.Contains("empty", verdicts["b_empty.png"].ErrorText);
        Assert.Contains("30000 x 30000", verdicts["c_huge.png"].ErrorText);
        Assert.Contains("not a PNG, JPEG or BMP image", verdicts["d_notes.txt"].ErrorText);
        Assert.Contains("not a PNG, JPEG or BMP image", verdicts["d_scan.tif"].ErrorText);
        foreach (var name in new[] { "a_corrupt.jpg", "b_empty.png", "c_huge.png", "d_notes.txt", "d_scan.tif" })
        {
            Assert.Equal(Verdict.Error, verdicts[name].Result);
            Assert.Null(verdicts[name].Score);
            Assert.True(File.Exists(Path.Combine(inbox, "failed", name)));
        }
        Assert.NotEqual(Verdict.Error, verdicts["e_good.png"].Result);
        Assert.True(File.Exists(Path.Combine(inbox, "done", "e_good.png")));
    }

    [Fact]
    public async Task Artifact_hot_swap_under_a_stream_loses_no_frame_and_refuses_a_tampered_one()
    {
        using var work = new TempFolder();
        string served = work.File("gasket.pcb");
        File.Copy(fixture.ModelA, served);
        var config = fixture.Config("swap-test", served, work.File("state"));
        config["Agent:Sources:Mqtt:Topic"] = "swap-test/camera";
        config["Agent:Pipeline:QueueCapacity"] = "512";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/swap-test/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Count > 0, Patience));
        string idA = EdgePatchCore.Artifacts.ArtifactFile.Read(fixture.ModelA).Id, idB = EdgePatchCore.Artifacts.ArtifactFile.Read(fixture.ModelB).Id;

        int sent = 0;
        async Task SendAsync(int count)
        {
            for (int i = 0; i < count; i++, sent++)
            {
                await probe.PublishAsync("swap-test/camera", File.ReadAllBytes(fixture.Pngs[sent % fixture.Pngs.Count]), ("frameId", $"s{sent:D3}"));
                await Task.Delay(100);
            }
        }
        void Deploy(byte[] bytes)
        {
            File.WriteAllBytes(served + ".new", bytes);
            File.Move(served + ".new", served, overwrite: true); // atomic, as the trainer writes
        }

        await SendAsync(10);
        Deploy(File.ReadAllBytes(fixture.ModelB));
        var swapping = SendAsync(20);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Any(v => v.Model?.Id == idB), Patience), "model B never served");
        await swapping;
        var tampered = File.ReadAllBytes(fixture.ModelA);
        tampered[tampered.Length / 2] ^= 0x40;
        Deploy(tampered);
        Assert.True(await probe.WaitForAsync(p => p.Messages("/event").Any(m => m.Json.GetProperty("type").GetString() == "model-refused"), Patience),
                    "no model-refused event");
        await SendAsync(10);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= sent, Patience));
        await Task.Delay(500);
        await host.StopAsync();

        var verdicts = probe.Verdicts();
        var ids = Enumerable.Range(0, sent).Select(i => $"s{i:D3}").ToList();
        Assert.Equal(ids, verdicts.Select(v => v.FrameId).Order().ToList()); // each frame exactly once
        Assert.All(verdicts, v => Assert.NotEqual(Verdict.Error, v.Result));
        // In order: A, then B from the swap on, and still B after the tampered file was refused.
        var models = verdicts.OrderBy(v => v.FrameId).Select(v => v.Model!.Id).ToList();
        int firstB = models.IndexOf(idB);
        Assert.True(firstB > 0 && models.Take(firstB).All(m => m == idA) && models.Skip(firstB).All(m => m == idB), string.Join(",", models));
        var refused = probe.Messages("/event").Select(m => m.Json).Single(e => e.GetProperty("type").GetString() == "model-refused");
        Assert.Contains("checksum", refused.GetProperty("message").GetString());
        Assert.Equal(idB, refused.GetProperty("details").GetProperty("serving").GetString());
    }
}
