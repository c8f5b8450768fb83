using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Deployment;
using EdgePatchCore.Tests.Artifacts;
using EdgePatchCore.Tests.Cli;
using EdgePatchCore.Tests.Imaging;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// The agent under faults, against a real mosquitto: each case streams frames, injects one fault, and ends
/// with every accepted frame's verdict published at least once (distinct ids counted) and the agent still
/// serving. Each case prints its figures: frames sent, distinct verdicts, verdicts lost (always 0), and how
/// long the agent took to recover (run with --logger "console;verbosity=detailed" to see them).
/// </summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class FaultInjectionTests(AgentFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private Dictionary<string, string?> Config(MosquittoBroker broker, string device, TempFolder work, bool folder = true)
    {
        var config = fixture.Config(device, fixture.ModelA, work.File("state"));
        config["Agent:Broker:Port"] = broker.Port.ToString();
        config["Agent:Sources:Mqtt:Topic"] = $"{device}/camera";
        config["Agent:Pipeline:QueueCapacity"] = "256";
        if (folder)
        {
            Directory.CreateDirectory(work.File("inbox"));
            config["Agent:Sources:Folder:Path"] = work.File("inbox");
            config["Agent:Sources:Folder:SettleMilliseconds"] = "0";
        }
        return config;
    }

    private static HashSet<string> Distinct(MqttProbe probe) => probe.Verdicts().Select(v => v.FrameId).ToHashSet();

    private async Task<bool> AllArrivedAsync(MqttProbe probe, IEnumerable<string> ids, TimeSpan? patience = null)
    {
        var wanted = ids.ToList();
        return await probe.WaitForAsync(p => { var seen = Distinct(p); return wanted.All(seen.Contains); }, patience ?? Patience);
    }

    private void Report(string name, int frames, MqttProbe probe, IEnumerable<string> ids, double? recoverySeconds, string note = "")
    {
        var seen = Distinct(probe);
        int lost = ids.Count(id => !seen.Contains(id));
        output.WriteLine($"fault {name}: frames sent {frames}, distinct verdicts {ids.Count(seen.Contains)} ({probe.Verdicts().Count} published), " +
                         $"verdicts lost {lost}" + (recoverySeconds is { } r ? $", recovered in {r:F1} s" : ", no interruption") + (note.Length > 0 ? "; " + note : ""));
        Assert.Equal(0, lost);
    }

    /// <summary>Waits until the agent has said it is online (its subscriptions are in place by then).</summary>
    private static async Task OnlineAsync(MqttProbe probe) =>
        Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Any(m => m.Json.GetProperty("state").GetString() == "online"), Patience), "the agent did not come online");

    /// <summary>One more frame after the fault: the agent is still serving.</summary>
    private static async Task AssertServingAsync(MqttProbe probe, string device, byte[] frame)
    {
        string id = $"after-{Guid.NewGuid():N}";
        await probe.PublishAsync($"{device}/camera", frame, ("frameId", id));
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Any(v => v.FrameId == id && v.Result != Verdict.Error), Patience), "not serving after the fault");
    }

    /// <summary>
    /// The agent loses its broker connection mid-stream as in a broker crash (the socket closes with no
    /// DISCONNECT), then the broker is SIGKILLed and restarted from its store: the agent scores on into its
    /// outbox, resumes its persistent session, takes the redelivered frames it had not acknowledged, and
    /// publishes everything. mosquitto acknowledges a message before its store is written, so a SIGKILL in
    /// that instant loses what it acknowledged, which no client can get back; the connection is therefore cut
    /// and the broker left to save (0.5 s, nobody publishing) before it is killed.
    /// </summary>
    [Fact]
    public async Task Broker_killed_and_restarted_mid_stream()
    {
        // The broker saves its state after every change, as a broker that must not lose acknowledged messages does.
        using var broker = new MosquittoBroker(settings: "autosave_on_changes true");
        using var cutter = new ConnectionCutter(broker.Port);
        using var work = new TempFolder();
        await using var probe = new MqttProbe(broker.Port, "edgepatchcore/fault-broker/#");
        await probe.StartAsync();
        var config = Config(broker, "fault-broker", work);
        config["Agent:Broker:Port"] = cutter.Port.ToString();
        using var host = await AgentFixture.StartAgentAsync(config);
        await OnlineAsync(probe);
        var png = File.ReadAllBytes(fixture.Pngs[0]);
        var ids = new List<string>();
        var cameraGate = new SemaphoreSlim(1, 1);
        bool cameraPublishing = true; // MQTT frames only while the broker is up: one it never took was never accepted
        // A steady stream: 20 folder frames and 10 MQTT frames a second for 4 s; the broker goes at 1 s and is back at 3 s.
        var feed = Task.Run(async () =>
        {
            for (int tick = 0; tick < 40; tick++)
            {
                string file = $"folder-{tick:D2}a.png", file2 = $"folder-{tick:D2}b.png";
                TestData.DropCopy(work.File("inbox"), file, fixture.Pngs[tick % fixture.Pngs.Count]);
                TestData.DropCopy(work.File("inbox"), file2, fixture.Pngs[(tick + 1) % fixture.Pngs.Count]);
                lock (ids) ids.AddRange([file, file2]);
                await cameraGate.WaitAsync();
                try
                {
                    string id = $"mqtt-{tick:D2}";
                    for (int attempt = 0; cameraPublishing; attempt++) // the camera waits for its own reconnect after the restart
                    {
                        try { await probe.PublishAsync("fault-broker/camera", png, ("frameId", id)); lock (ids) ids.Add(id); break; }
                        catch (MQTTnet.Exceptions.MqttCommunicationException) when (attempt < 100) { await Task.Delay(100); }
                    }
                }
                finally { cameraGate.Release(); }
                await Task.Delay(100);
            }
        });
        await Task.Delay(1000);
        await cameraGate.WaitAsync(); // no camera publish in flight
        cameraPublishing = false;
        cameraGate.Release();
        cutter.Cut();
        int before = Distinct(probe).Count;
        await Task.Delay(500); // the broker forwards and stores what it acknowledged
        broker.Kill();
        await Task.Delay(1500); // the agent scores on into its outbox
        broker.Start();
        cutter.Restore();
        cameraPublishing = true;
        var restarted = Stopwatch.StartNew();
        Assert.True(await probe.WaitForAsync(p => Distinct(p).Count > before, Patience), "no verdict after the restart");
        double recovery = restarted.Elapsed.TotalSeconds;
        await feed;
        Assert.True(await AllArrivedAsync(probe, ids), $"missing: {string.Join(", ", ids.Except(Distinct(probe)))}");
        await AssertServingAsync(probe, "fault-broker", png);
        await host.StopAsync();
        Report("broker connection cut, broker killed (SIGKILL) and restarted", ids.Count, probe, ids, recovery,
            $"{before} verdicts before the cut; recovery = restart to the next verdict");
    }

    [Fact]
    public async Task Agent_killed_mid_batch_then_restarted()
    {
        using var work = new TempFolder();
        var config = Config(fixture.Broker, "fault-kill", work);
        config["Agent:Pipeline:MaxBatch"] = "4";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/fault-kill/#");
        await probe.StartAsync();
        var png = File.ReadAllBytes(fixture.Pngs[1]);
        var ids = new List<string>();
        for (int i = 0; i < 30; i++) { ids.Add($"folder-{i:D2}.png"); TestData.DropCopy(work.File("inbox"), ids[^1], fixture.Pngs[i % fixture.Pngs.Count]); }
        using (var first = AgentFixture.StartAgentProcess(config))
        {
            Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 1, Patience), "first run produced no verdicts");
            for (int i = 0; i < 20; i++) { ids.Add($"mqtt-{i:D2}"); await probe.PublishAsync("fault-kill/camera", png, ("frameId", ids[^1])); }
            Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count >= 8, Patience));
            first.Kill(); // SIGKILL, with a batch in flight
            first.WaitForExit();
        }
        int before = Distinct(probe).Count;
        var restarted = Stopwatch.StartNew();
        using var second = AgentFixture.StartAgentProcess(config);
        try
        {
            Assert.True(await AllArrivedAsync(probe, ids), $"missing: {string.Join(", ", ids.Except(Distinct(probe)))}");
            double recovery = restarted.Elapsed.TotalSeconds;
            Assert.True(before < ids.Count, "the kill should happen mid-stream");
            await AssertServingAsync(probe, "fault-kill", png);
            Report("agent killed (SIGKILL) mid-batch", ids.Count, probe, ids, recovery, $"{before} verdicts before the kill; recovery = restart to the last verdict");
        }
        finally
        {
            second.Kill();
            second.WaitForExit();
        }
    }

    [Fact]
    public async Task Agent_killed_while_the_broker_is_down_replays_its_outbox_on_restart()
    {
        using var broker = new MosquittoBroker();
        using var work = new TempFolder();
        var config = Config(broker, "fault-outbox", work);
        await using var probe = new MqttProbe(broker.Port, "edgepatchcore/fault-outbox/#");
        await probe.StartAsync();
        var ids = Enumerable.Range(0, 20).Select(i => $"folder-{i:D2}.png").ToList();
        using (var first = AgentFixture.StartAgentProcess(config))
        {
            Assert.True(SpinWait.SpinUntil(() => Directory.Exists(work.File("state/outbox")), Patience));
            broker.Stop();
            for (int i = 0; i < ids.Count; i++) TestData.DropCopy(work.File("inbox"), ids[i], fixture.Pngs[i % fixture.Pngs.Count]);
            string done = Path.Combine(work.File("inbox"), "done");
            Assert.True(SpinWait.SpinUntil(() => Directory.Exists(done) && Directory.GetFiles(done).Length == ids.Count, Patience),
                        "the frames were not scored into the outbox");
            first.Kill(); // SIGKILL with every verdict waiting in the outbox
            first.WaitForExit();
        }
        int waiting = Directory.GetFiles(work.File("state/outbox"), "*.msg").Length;
        Assert.True(waiting >= ids.Count, $"{waiting} messages in the outbox");
        broker.Start();
        var restarted = Stopwatch.StartNew();
        using var second = AgentFixture.StartAgentProcess(config);
        try
        {
            Assert.True(await AllArrivedAsync(probe, ids), $"missing: {string.Join(", ", ids.Except(Distinct(probe)))}");
            double recovery = restarted.Elapsed.TotalSeconds;
            await AssertServingAsync(probe, "fault-outbox", File.ReadAllBytes(fixture.Pngs[0]));
            Report("agent killed (SIGKILL) while the broker was down", ids.Count, probe, ids, recovery, $"{waiting} messages replayed from the outbox");
        }
        finally
        {
            second.Kill();
            second.WaitForExit();
        }
    }

    [Fact]
    public async Task A_batch_mixing_good_frames_with_every_bad_kind()
    {
        using var work = new TempFolder();
        var config = Config(fixture.Broker, "fault-mixed", work, folder: false);
        config["Agent:Limits:MaxFrameBytes"] = (2 << 20).ToString();
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/fault-mixed/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        await OnlineAsync(probe);
        var good = fixture.Pngs.Take(4).Select(File.ReadAllBytes).ToList();
        var bad = new (string Id, byte[] Bytes, string Reason)[]
        {
            ("bad-tall", TestData.PngHeader(1, 49_999_999), "over the limit of 8192 x 6144"),
            ("bad-wide", TestData.PngHeader(4000, 1), "aspect ratio 4000"),
            ("bad-cut-jpeg", CraftedImages.CutInScanData(File.ReadAllBytes(fixture.Jpegs[0])), "ends before the end-of-image marker"),
            ("bad-cut-png", CraftedImages.PngCutShort(good[0]), "ends before its IEND chunk"),
            ("bad-bomb", CraftedImages.ProgressiveScanBomb(6000, 6000, 2000), "more than 64 scans"),
            ("bad-text", "line 3 camera notes"u8.ToArray(), "not a PNG, JPEG or BMP image"),
            ("bad-empty", [], "empty"),
            ("bad-huge", RandomNumberGenerator.GetBytes(3 << 20), "over the limit of 2097152"),
        };
        var ids = new List<string>();
        int g = 0;
        for (int round = 0; round < 2; round++)
            foreach (var (id, bytes, _) in bad)
            {
                ids.Add($"good-{g}");
                await probe.PublishAsync("fault-mixed/camera", good[g % good.Count], ("frameId", ids[^1]));
                g++;
                ids.Add($"{id}-{round}");
                await probe.PublishAsync("fault-mixed/camera", bytes, ("frameId", ids[^1]));
            }
        Assert.True(await AllArrivedAsync(probe, ids), $"missing: {string.Join(", ", ids.Except(Distinct(probe)))}");
        await AssertServingAsync(probe, "fault-mixed", good[0]);
        await host.StopAsync();

        var verdicts = probe.Verdicts().GroupBy(v => v.FrameId).ToDictionary(x => x.Key, x => x.First());
        var expected = fixture.TrainerScores(fixture.ModelA, fixture.Pngs.Take(4));
        for (int i = 0; i < g; i++)
        {
            var v = verdicts[$"good-{i}"];
            Assert.NotEqual(Verdict.Error, v.Result);
            Assert.Equal(expected[fixture.Pngs[i % good.Count]], v.Score!.Value, 0.01 * expected[fixture.Pngs[i % good.Count]]);
        }
        foreach (var (id, _, reason) in bad)
            for (int round = 0; round < 2; round++)
            {
                var v = verdicts[$"{id}-{round}"];
                Assert.Equal(Verdict.Error, v.Result);
                Assert.Contains(reason, v.ErrorText);
            }
        Report("a batch mixing good frames with each bad frame kind", ids.Count, probe, ids, null, $"{g} good frames scored as the trainer scores them, {ids.Count - g} error verdicts");
    }

    [Fact]
    public async Task A_broker_whose_maximum_packet_size_is_smaller_than_some_verdicts()
    {
        using var broker = new MosquittoBroker(settings: "max_packet_size 700");
        using var work = new TempFolder();
        await using var probe = new MqttProbe(broker.Port, "edgepatchcore/fault-packet/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(Config(broker, "fault-packet", work));
        await OnlineAsync(probe);
        var ids = new List<string>();
        var oversized = new List<string>();
        for (int i = 0; i < 12; i++)
        {
            if (i % 4 == 1)
            {
                // Not an image, with a long name: its error verdict repeats the name and is about 900 bytes.
                string name = $"{i:D2}-" + new string('n', 200) + ".png";
                oversized.Add(name);
                ids.Add(name);
                TestData.Drop(work.File("inbox"), name, "not an image"u8.ToArray());
            }
            else
            {
                ids.Add($"{i:D2}.png");
                TestData.DropCopy(work.File("inbox"), ids[^1], fixture.Pngs[i % fixture.Pngs.Count]);
            }
            await Task.Delay(50);
        }
        string SetAsideFrame(ReceivedMessage m) => m.Json.GetProperty("details").GetProperty("frameId").GetString() ?? "";
        bool Accounted(MqttProbe p)
        {
            var published = Distinct(p);
            var setAside = p.Messages("/event").Where(m => m.Json.GetProperty("type").GetString() == "message-set-aside").Select(SetAsideFrame).ToHashSet();
            return ids.All(id => published.Contains(id) || setAside.Contains(id));
        }
        Assert.True(await probe.WaitForAsync(Accounted, Patience), "a verdict is neither published nor set aside");
        TestData.DropCopy(work.File("inbox"), "after.png", fixture.Pngs[0]); // still serving (frames come by folder here: the broker takes no 89 KB frame)
        Assert.True(await probe.WaitForAsync(p => Distinct(p).Contains("after.png"), Patience), "not serving after the fault");
        await host.StopAsync();

        var events = probe.Messages("/event").Where(m => m.Json.GetProperty("type").GetString() == "message-set-aside").ToList();
        Assert.Equal(oversized.Order(), events.Select(SetAsideFrame).Order());
        Assert.All(events, e => Assert.Contains("over the broker's maximum packet size of 700 bytes", e.Json.GetProperty("message").GetString()));
        Assert.Equal(oversized.Count, Directory.GetFiles(work.File("state/outbox/rejected"), "*.msg").Length);
        Assert.Equal(ids.Count - oversized.Count, ids.Count(Distinct(probe).Contains)); // every other verdict went through, in spite of those in front
        output.WriteLine($"fault broker max_packet_size 700: frames sent {ids.Count}, published {ids.Count - oversized.Count}, " +
                         $"set aside (kept in outbox/rejected, reported by event) {oversized.Count}, verdicts lost 0");
    }

    [Fact]
    public async Task A_flood_of_absurd_deploy_messages_while_frames_stream_in()
    {
        using var work = new TempFolder();
        var config = Config(fixture.Broker, "fault-flood", work, folder: false);
        config["Agent:TrustedKeys:0"] = fixture.PlantPublicKey;
        fixture.Signed(fixture.ModelA, work.File("served.pcb"), version: 1);
        config["Agent:Artifact"] = work.File("served.pcb");
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/fault-flood/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        await OnlineAsync(probe);
        var png = File.ReadAllBytes(fixture.Pngs[0]);

        async Task<List<double>> StreamAsync(string prefix, int count)
        {
            var ids = Enumerable.Range(0, count).Select(i => $"{prefix}-{i:D2}").ToList();
            foreach (var id in ids)
            {
                await probe.PublishAsync("fault-flood/camera", png, ("frameId", id));
                await Task.Delay(200);
            }
            Assert.True(await AllArrivedAsync(probe, ids), $"missing: {string.Join(", ", ids.Except(Distinct(probe)))}");
            return probe.Verdicts().Where(v => ids.Contains(v.FrameId)).Select(v => v.LatencyMs.Total).Order().ToList();
        }

        var quiet = await StreamAsync("quiet", 20);
        using var stop = new CancellationTokenSource();
        long flooded = 0;
        await using var attacker = new MqttProbe(fixture.Broker.Port, "nothing/#");
        await attacker.StartAsync();
        string request = DeployProtocol.RequestTopic("edgepatchcore/fault-flood");
        var junkChunk = new byte[1 << 20];
        var flood = Task.Run(async () =>
        {
            var rng = new Random(3);
            while (!stop.IsCancellationRequested)
            {
                string id = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
                var begin = new DeployBegin(id, "x.pcb", rng.NextInt64(1, long.MaxValue), new string('a', 64), rng.Next(1, int.MaxValue), rng.Next(), "gasket", ReleaseVersion: 99);
                await attacker.PublishAsync(request, JsonSerializer.SerializeToUtf8Bytes(begin, DeployProtocol.Json),
                    (DeployProtocol.TypeProperty, DeployProtocol.Begin), (DeployProtocol.TransferProperty, id));
                await attacker.PublishAsync(request, junkChunk, (DeployProtocol.TypeProperty, DeployProtocol.Chunk), (DeployProtocol.TransferProperty, id),
                    (DeployProtocol.IndexProperty, "0"), (DeployProtocol.HashProperty, "00"));
                await attacker.PublishAsync(request, [], (DeployProtocol.TypeProperty, DeployProtocol.Commit), (DeployProtocol.TransferProperty, id));
                Interlocked.Add(ref flooded, 3);
            }
        });
        var clock = Stopwatch.StartNew();
        var loud = await StreamAsync("flood", 20);
        double seconds = clock.Elapsed.TotalSeconds;
        stop.Cancel();
        await flood;
        await AssertServingAsync(probe, "fault-flood", png);
        int answers = probe.Messages("/deploy/status").Count;
        double window = clock.Elapsed.TotalSeconds; // answers go on while the flood's queue drains: the bucket's window ends at the count
        await host.StopAsync();

        static double P(List<double> sorted, double q) => sorted[(int)Math.Min(sorted.Count - 1, Math.Round(q * (sorted.Count - 1)))];
        double ratio = P(loud, 0.5) / P(quiet, 0.5);
        output.WriteLine($"fault deploy flood: {flooded} deploy messages ({flooded / seconds:F0}/s, a third of them 1 MiB) during 20 frames; " +
                         $"frame latency p50 {P(quiet, 0.5):F0} -> {P(loud, 0.5):F0} ms, p95 {P(quiet, 0.95):F0} -> {P(loud, 0.95):F0} ms (ratio {ratio:F2}); " +
                         $"{answers} deploy answers published (rate-limited); verdicts lost 0");
        Assert.True(flooded > 300, $"only {flooded} flood messages");
        Assert.True(ratio < 3, $"frames slowed down {ratio:F1} times under the flood");
        Assert.True(answers <= 50 + 20 * (window + 1), $"{answers} answers in {window:F1} s: replies are not rate-limited");
        Assert.Empty(Directory.Exists(work.File("state/deploy/transfers")) ? Directory.GetDirectories(work.File("state/deploy/transfers")) : []);
    }

    [Fact]
    public async Task The_state_directory_fills_up_then_space_returns()
    {
        using var work = new TempFolder();
        string state = work.File("state");
        Directory.CreateDirectory(state);
        MountTmpfs(state, "4m");
        try
        {
            var config = Config(fixture.Broker, "fault-disk", work);
            var logs = new CapturedLogs();
            await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/fault-disk/#");
            await probe.StartAsync();
            using var host = await AgentFixture.StartAgentAsync(config, logs);
            await OnlineAsync(probe);
            await AssertServingAsync(probe, "fault-disk", File.ReadAllBytes(fixture.Pngs[0]));
            string filler = Path.Combine(state, "filler");
            Fill(filler);

            var ids = Enumerable.Range(0, 10).Select(i => $"folder-{i:D2}.png").ToList();
            for (int i = 0; i < ids.Count; i++) TestData.DropCopy(work.File("inbox"), ids[i], fixture.Pngs[i % fixture.Pngs.Count]);
            Assert.True(SpinWait.SpinUntil(() => logs.Any("Cannot store the verdict"), Patience), "the agent did not say why verdicts wait");
            await Task.Delay(2000);
            Assert.DoesNotContain(probe.Verdicts(), v => ids.Contains(v.FrameId)); // nothing is published before it is stored
            Assert.True(ids.All(id => File.Exists(Path.Combine(work.File("inbox"), id))), "a frame left its folder without a stored verdict");

            File.Delete(filler);
            var freed = Stopwatch.StartNew();
            Assert.True(await AllArrivedAsync(probe, ids), $"missing: {string.Join(", ", ids.Except(Distinct(probe)))}");
            double recovery = freed.Elapsed.TotalSeconds;
            Assert.True(logs.Any("takes verdicts again"), string.Join("\n", logs.Lines.TakeLast(5)));
            Assert.Equal(ids.Order(), Directory.GetFiles(Path.Combine(work.File("inbox"), "done")).Select(Path.GetFileName).Order());
            await AssertServingAsync(probe, "fault-disk", File.ReadAllBytes(fixture.Pngs[0]));
            await host.StopAsync();
            Report("state directory full (4 MiB tmpfs), then space returned", ids.Count, probe, ids, recovery, "recovery = space freed to the last verdict");
        }
        finally
        {
            Unmount(state);
        }
    }

    [Fact]
    public async Task A_deploy_whose_warm_up_fails_while_frames_stream_in()
    {
        using var work = new TempFolder();
        var config = Config(fixture.Broker, "fault-warmup", work, folder: false);
        config["Agent:TrustedKeys:0"] = fixture.PlantPublicKey;
        string idA = fixture.Signed(fixture.ModelA, work.File("served.pcb"), version: 1);
        config["Agent:Artifact"] = work.File("served.pcb");
        CraftedArtifacts.WrongBackboneDimensions(fixture.ModelB, work.File("broken-unsigned.pcb"));
        fixture.Signed(work.File("broken-unsigned.pcb"), work.File("broken.pcb"), version: 2);
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/fault-warmup/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        await OnlineAsync(probe);
        var png = File.ReadAllBytes(fixture.Pngs[0]);
        var ids = Enumerable.Range(0, 20).Select(i => $"warm-{i:D2}").ToList();
        var deploy = Task.Run(() => TrainerRunner.Run("deploy", work.File("broken.pcb"), "--broker", $"127.0.0.1:{fixture.Broker.Port}", "--device", "fault-warmup", "--timeout", "60"));
        foreach (var id in ids)
        {
            await probe.PublishAsync("fault-warmup/camera", png, ("frameId", id));
            await Task.Delay(150);
        }
        var result = await deploy;
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("could not be built and warmed up", result.Error);
        Assert.True(await AllArrivedAsync(probe, ids), $"missing: {string.Join(", ", ids.Except(Distinct(probe)))}");
        Assert.All(probe.Verdicts(), v => Assert.Equal(idA, v.Model!.Id));
        await AssertServingAsync(probe, "fault-warmup", png);
        await host.StopAsync();
        Report("deploy of a model whose warm-up fails", ids.Count, probe, ids, null, "the served model and file stayed in place");
    }

    private static void MountTmpfs(string path, string size)
    {
        foreach (var command in new[] { new[] { "mount" }, new[] { "sudo", "-n", "mount" } })
        {
            var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in command.Skip(1).Concat(["-t", "tmpfs", "-o", $"size={size},mode=0755", "tmpfs", path])) start.ArgumentList.Add(arg);
            try
            {
                using var p = Process.Start(start)!;
                p.WaitForExit();
                if (p.ExitCode == 0) return;
            }
            catch (System.ComponentModel.Win32Exception) { } // no sudo
        }
        Assert.Fail("this test mounts a small tmpfs to fill it: it needs root or passwordless sudo (CI runs as root)");
    }

    private static void Unmount(string path)
    {
        foreach (var command in new[] { "umount", "sudo" })
        {
            var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
            if (command == "sudo") { start.ArgumentList.Add("-n"); start.ArgumentList.Add("umount"); }
            start.ArgumentList.Add("-l");
            start.ArgumentList.Add(path);
            try
            {
                using var p = Process.Start(start)!;
                p.WaitForExit();
                if (p.ExitCode == 0) return;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
    }

    /// <summary>Writes until the file system is full.</summary>
    private static void Fill(string path)
    {
        var block = new byte[64 << 10];
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true) f.Write(block);
        }
        catch (IOException)
        {
            for (int size = block.Length / 2; size >= 1; size /= 2)
            {
                try { while (true) f.Write(block, 0, size); } catch (IOException) { }
            }
        }
    }
}
