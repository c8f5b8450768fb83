using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using EdgePatchCore.Agent;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Sources;
using EdgePatchCore.Tests.FileSystem;
using EdgePatchCore.Tests.Imaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Packets;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

/// <summary>The agent against hostile frames, special files, a lost connection and its own failures: each a reviewed defect.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class HardeningTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public void An_mqtt_frame_is_acknowledged_once_and_a_lost_connection_never_throws_out_of_the_worker()
    {
        int calls = 0;
        var message = new MqttApplicationMessageBuilder().WithTopic("t").WithPayload([1]).Build();
        var received = new MqttApplicationMessageReceivedEventArgs("agent", message, new MqttPublishPacket(), (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("The client is not connected."); // what MQTTnet throws once the connection is gone
        });
        var ack = new MqttAcknowledgement(received, NullLogger.Instance);
        ack.Completed(null!); // the verdict was stored
        ack.Dropped();        // and a failure path tries again
        ack.Completed(null!);
        Assert.Equal(1, calls);
    }

    private sealed class FailingService : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(300, stoppingToken);
            throw new InvalidOperationException("a fault in a background service");
        }
    }

    [Fact]
    public async Task A_failure_that_stops_the_host_exits_non_zero_and_a_requested_stop_exits_zero()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("exit-test", work, settleMilliseconds: 0);
        var builder = AgentHost.CreateBuilder([], null, config);
        builder.Services.AddHostedService<FailingService>();
        using (var failing = builder.Build())
        {
            var run = AgentProgram.RunHostAsync(failing);
            Assert.True(await Task.WhenAny(run, Task.Delay(Patience)) == run, "the host did not stop after a service failed");
            Assert.Equal(AgentProgram.ExitFailure, await run);
        }
        using var healthy = await AgentFixture.StartAgentAsync(fixture.FolderConfig("exit-test-2", work, settleMilliseconds: 0));
        await healthy.StopAsync();
        Assert.Equal(AgentProgram.ExitOk, AgentProgram.ExitCodeAfterStop(healthy));
    }

    [Fact]
    public async Task Special_files_cut_images_and_absurd_shapes_in_the_folder_fail_alone_and_move_to_failed()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("folder-hostile", work, settleMilliseconds: 100);
        string inbox = work.File("inbox");
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/folder-hostile/verdict");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);

        RegularFileTests.MakeFifo(Path.Combine(inbox, "a_pipe.png"));
        File.CreateSymbolicLink(Path.Combine(inbox, "b_link.png"), fixture.Pngs[0]);
        TestData.Drop(inbox, "c_cut.jpg", CraftedImages.CutInScanData(File.ReadAllBytes(fixture.Jpegs[0])));
        TestData.Drop(inbox, "d_tall.png", TestData.PngHeader(1, 49_999_999));
        TestData.Drop(inbox, "e_bomb.jpg", CraftedImages.ProgressiveScanBomb(6000, 6000, 2000));
        TestData.Drop(inbox, "f_cut.png", CraftedImages.PngCutShort(File.ReadAllBytes(fixture.Pngs[1])));
        TestData.DropCopy(inbox, "g_good.png", fixture.Pngs[0]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 7, Patience), $"{probe.Verdicts().Count} verdicts");
        await Task.Delay(1500); // nothing is retried: no second verdict may follow
        await host.StopAsync();

        var verdicts = probe.Verdicts();
        Assert.Equal(7, verdicts.Count);
        var byId = verdicts.ToDictionary(v => v.FrameId);
        foreach (var (name, reason) in new[]
                 {
                     ("a_pipe.png", "a FIFO (named pipe), not a regular file"), ("b_link.png", "a symbolic link, not a regular file"),
                     ("c_cut.jpg", "JPEG image data ends before the end-of-image marker"), ("d_tall.png", "1 x 49999999 pixels, over the limit of 8192 x 6144"),
                     ("e_bomb.jpg", "more than 64 scans"), ("f_cut.png", "PNG image data ends before its IEND chunk"),
                 })
        {
            Assert.Equal(Verdict.Error, byId[name].Result);
            Assert.Contains(reason, byId[name].ErrorText);
            Assert.True(Path.Exists(Path.Combine(inbox, "failed", name)), $"{name} not in failed/");
        }
        Assert.NotEqual(Verdict.Error, byId["g_good.png"].Result);
        Assert.True(File.Exists(Path.Combine(inbox, "done", "g_good.png")));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(inbox), e => !Directory.Exists(e)); // only done/ and failed/ are left
    }

    [Fact]
    public async Task Mqtt_frames_get_capped_ids_and_stable_ids_when_they_have_none()
    {
        using var work = new TempFolder();
        var config = fixture.Config("mqtt-ids", fixture.ModelA, work.File("state"));
        config["Agent:Sources:Mqtt:Topic"] = "mqtt-ids/camera";
        config["Agent:Pipeline:QueueCapacity"] = "64";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/mqtt-ids/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Count > 0, Patience));

        var png = File.ReadAllBytes(fixture.Pngs[0]);
        string longId = new string('x', 60_000); // near the most a user property can carry
        await probe.PublishAsync("mqtt-ids/camera", png, ("frameId", longId));
        await probe.PublishAsync("mqtt-ids/camera", png); // no frameId: the same payload twice gets the same id
        await probe.PublishAsync("mqtt-ids/camera", png);
        await probe.PublishAsync("mqtt-ids/camera", File.ReadAllBytes(fixture.Pngs[1]));
        for (int i = 0; i < 30; i++) await probe.PublishAsync("mqtt-ids/camera", png, ("frameId", $"burst-{i:D2}"));
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 34, Patience), $"{probe.Verdicts().Count} of 34 verdicts");
        await host.StopAsync();

        var verdicts = probe.Verdicts();
        Assert.Equal(34, verdicts.Count);
        var capped = Assert.Single(verdicts, v => v.FrameId.StartsWith("xxx", StringComparison.Ordinal));
        Assert.Equal(Text.MaxFrameId, capped.FrameId.Length);
        Assert.EndsWith("...", capped.FrameId);
        var derived = verdicts.Where(v => v.FrameId.StartsWith("mqtt-", StringComparison.Ordinal)).Select(v => v.FrameId).ToList();
        Assert.Equal(3, derived.Count);
        Assert.Equal(2, derived.Distinct().Count()); // the two identical payloads share one id
        Assert.Equal(30, verdicts.Count(v => v.FrameId.StartsWith("burst-", StringComparison.Ordinal)));
        Assert.All(probe.Messages("/verdict"), m => Assert.True(m.Payload.Length < 2048, $"a verdict of {m.Payload.Length} bytes"));
    }

    [Fact]
    public async Task The_agent_tells_the_broker_its_maximum_packet_size_and_receive_maximum()
    {
        // MQTTnet's own broker, in this process, shows what the agent put in its CONNECT packet.
        int port = MosquittoBroker.FreePort();
        var connects = new ConcurrentQueue<(uint? MaximumPacketSize, ushort ReceiveMaximum)>();
        using var server = new MQTTnet.Server.MqttServerFactory().CreateMqttServer(new MQTTnet.Server.MqttServerOptionsBuilder()
            .WithDefaultEndpoint().WithDefaultEndpointBoundIPAddress(System.Net.IPAddress.Loopback).WithDefaultEndpointPort(port).Build());
        server.ValidatingConnectionAsync += e =>
        {
            connects.Enqueue((e.MaximumPacketSize, e.ReceiveMaximum));
            return Task.CompletedTask;
        };
        await server.StartAsync();
        using var work = new TempFolder();
        var config = fixture.FolderConfig("connect-test", work, settleMilliseconds: 0);
        config["Agent:Broker:Port"] = port.ToString();
        config["Agent:Limits:MaxFrameBytes"] = (16 << 20).ToString();
        config["Agent:Pipeline:QueueCapacity"] = "20";
        config["Agent:Pipeline:MaxBatch"] = "4";
        using var host = await AgentFixture.StartAgentAsync(config);
        Assert.True(SpinWait.SpinUntil(() => !connects.IsEmpty, Patience), "the agent did not connect");
        await host.StopAsync();
        await server.StopAsync(new MQTTnet.Server.MqttServerStopOptions());
        var (maximumPacketSize, receiveMaximum) = connects.First();
        Assert.Equal((16u << 20) + (64u << 10), maximumPacketSize); // a frame plus room for topic and properties: no 256 MB payloads
        Assert.Equal(24, receiveMaximum);                             // the queue and one batch
    }

    [Fact]
    public async Task The_will_and_the_first_status_name_the_loaded_model()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("will-test", work, settleMilliseconds: 0);
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/will-test/status");
        await probe.StartAsync();
        string id = EdgePatchCore.Artifacts.ArtifactFile.Read(fixture.ModelA).Id;
        using var agent = AgentFixture.StartAgentProcess(config);
        try
        {
            Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Any(), Patience), "no status");
            agent.Kill(); // SIGKILL: the broker publishes the Will
            agent.WaitForExit();
            Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Any(m => m.Json.GetProperty("state").GetString() == "offline"), Patience));
        }
        finally
        {
            if (!agent.HasExited) agent.Kill();
        }
        foreach (var status in probe.Messages("/status").Select(m => m.Json))
            Assert.Equal(id, status.GetProperty("model").GetProperty("id").GetString());
    }

    [Fact]
    public async Task An_outbox_entry_is_renamed_into_place_and_then_its_folder_is_flushed()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("fsync-test", work, settleMilliseconds: 0);
        config["Agent:Broker:Host"] = ""; // verdicts stay in the outbox
        string trace = work.File("strace.log");
        string strace = new[] { "/usr/bin/strace", "/bin/strace" }.FirstOrDefault(File.Exists)
                        ?? throw new InvalidOperationException("strace is not installed: apt-get install -y strace (.ci/run does this)");
        using (var agent = AgentFixture.StartAgentProcess(config, wrapper: [strace, "-f", "-ff", "-qq", "-e", "trace=openat,rename,renameat,renameat2,fsync,fdatasync", "-o", trace]))
        {
            TestData.DropCopy(work.File("inbox"), "f.png", fixture.Pngs[0]);
            Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(work.File("inbox"), "done", "f.png")), Patience), "the frame was not scored");
            agent.Kill(entireProcessTree: true);
            agent.WaitForExit();
        }
        string outbox = work.File("state/outbox");
        // One trace file per thread (-ff): a durable write runs on one thread, so its calls are in order in one file.
        var lines = Directory.GetFiles(work.Path, "strace.log.*").Select(File.ReadAllLines)
            .FirstOrDefault(l => l.Any(x => x.Contains("rename") && x.Contains($"\"{outbox}/0000000000000001.msg\""))) ?? [];
        int rename = Array.FindIndex(lines, l => l.Contains("rename") && l.Contains($"\"{outbox}/0000000000000001.msg\"") && l.EndsWith("= 0"));
        Assert.True(rename >= 0, "no rename of the first outbox entry:\n" + string.Join("\n", lines.Where(l => l.Contains(outbox))));
        var open = lines.Skip(rename).Select(l => System.Text.RegularExpressions.Regex.Match(l, $@"openat\(AT_FDCWD, ""{System.Text.RegularExpressions.Regex.Escape(outbox)}"", O_RDONLY[^)]*\) = (\d+)"))
            .FirstOrDefault(m => m.Success);
        Assert.True(open is not null, "the outbox folder was not opened after the rename");
        Assert.Contains(lines.Skip(rename), l => l.Contains($"fsync({open.Groups[1].Value})") && l.EndsWith("= 0"));
    }

    [Fact]
    public async Task Camera_credentials_are_masked_in_every_log_line()
    {
        Assert.Equal("http://operator:***@10.0.3.21/snapshot.jpg", Text.Redact("http://operator:s3cr3t@10.0.3.21/snapshot.jpg"));
        Assert.Equal("rtsp://***@cam/stream", Text.Redact("rtsp://tokenonly@cam/stream"));
        Assert.Equal("-i rtsp://admin:***@10.0.0.9/h264 --password=*** -f mjpeg -", Text.Redact("-i rtsp://admin:hunter2@10.0.0.9/h264 --password=hunter2 -f mjpeg -"));

        using var work = new TempFolder();
        var config = fixture.Config("redact-test", fixture.ModelA, work.File("state"));
        int closed = MosquittoBroker.FreePort();
        config["Agent:Sources:Http:Url"] = $"http://operator:s3cr3t@127.0.0.1:{closed}/snapshot.jpg";
        config["Agent:Sources:Http:IntervalMilliseconds"] = "100";
        config["Agent:Sources:Mjpeg:Command"] = "cat";
        config["Agent:Sources:Mjpeg:Arguments"] = "rtsp://admin:hunter2@10.0.0.9/h264 --password=hunter2";
        config["Agent:Sources:Mjpeg:RestartSeconds"] = "3600";
        config["Logging:LogLevel:EdgePatchCore.Agent.Sources"] = "Debug";
        var logs = new CapturedLogs();
        using var host = await AgentFixture.StartAgentAsync(config, logs);
        Assert.True(SpinWait.SpinUntil(() => logs.Any("does not answer") && logs.Any("exited with code"), Patience), string.Join("\n", logs.Lines));
        await host.StopAsync();
        Assert.Contains(logs.Lines, l => l.Contains("operator:***@127.0.0.1"));
        Assert.Contains(logs.Lines, l => l.Contains("admin:***@10.0.0.9"));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("s3cr3t") || l.Contains("hunter2"));
    }

    [Fact]
    public void Texts_from_outside_are_capped_and_cleaned_of_control_characters()
    {
        Assert.Equal("a?b?c", Text.Cap("a\nb\u0085c", 10)); // a forged log line (brokers such as mosquitto refuse these in properties anyway)
        Assert.Equal(Text.MaxFrameId, Text.FrameId(new string('x', 100_000))!.Length);
        Assert.Equal("ab...", Text.Cap("abcdefgh", 5));
        Assert.Null(Text.FrameId("  "));
        string pairs = string.Concat(Enumerable.Repeat("\U0001F600", 10)); // never cut between the halves of a surrogate pair
        Assert.True(char.IsSurrogatePair(Text.Cap(pairs, 8)[^5], Text.Cap(pairs, 8)[^4]));
    }

    [Fact]
    public void The_mjpeg_splitter_is_linear_on_junk_and_still_finds_the_frame_after_it()
    {
        // Start-of-image markers followed by garbage: each is a frame that goes wrong at once. A splitter that shifts
        // the whole buffer and searches it again from the start after each one is quadratic: minutes for 4 MiB.
        var junk = new byte[4 << 20];
        for (int i = 0; i + 2 < junk.Length; i += 3) { junk[i] = 0xFF; junk[i + 1] = 0xD8; junk[i + 2] = 0x00; }
        var frame = File.ReadAllBytes(fixture.Jpegs[0]);
        var splitter = new MjpegSplitter(8 << 20);
        var frames = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        foreach (var chunk in junk.Concat(frame).Chunk(64 << 10))
        {
            splitter.Append(chunk);
            while (splitter.TryTake(out var f)) frames.Add(f);
        }
        clock.Stop();
        Assert.Equal(frame, Assert.Single(frames));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"4 MiB of junk took {clock.Elapsed.TotalMilliseconds:F0} ms");
    }
}
