using System.Text;
using System.Text.Json;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Teach;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Deployment;
using EdgePatchCore.Tests.Cli;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// The agent's control messages against a real mosquitto and the real agent host: a teach mark is taken only from the
/// line's SCADA (HMAC, this device, fresh, once), a kept frame is never replaced by a later one with its id, and the
/// teach set is collected only with the plant key, from the device asked.
/// </summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class TeachAuthenticationTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Only_authentic_fresh_and_new_teach_marks_for_this_device_are_taken_even_across_a_restart()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("teach-auth", work, settleMilliseconds: 100);
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/teach-auth/#");
        await probe.StartAsync();
        string topic = "edgepatchcore/teach-auth/teach";
        int answers = 0;
        async Task<JsonElement> Send(byte[] message)
        {
            await probe.PublishAsync(topic, message);
            answers++;
            Assert.True(await probe.WaitForAsync(p => p.Messages("/teach/status").Count == answers, Patience), "no answer on teach/status");
            return probe.Messages("/teach/status")[^1].Json;
        }
        static string? Error(JsonElement status) => status.GetProperty("error").GetString();

        byte[] authentic = AgentFixture.TeachMessage("teach-auth", ["cam-1.png"], @operator: "j.smith");
        using (var host = await AgentFixture.StartAgentAsync(config))
        {
            TestData.DropCopy(work.File("inbox"), "cam-0.png", fixture.Pngs[0]);
            TestData.DropCopy(work.File("inbox"), "cam-1.png", fixture.Pngs[2]); // a cut part: what an intruder would like taught as good
            Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 2, Patience), "frames were not scored");

            // Anyone on the broker: a plain request, a wrong secret, another key, another line, an old message, no nonce.
            Assert.Contains("not authenticated", Error(await Send(JsonSerializer.SerializeToUtf8Bytes(new { frameIds = new[] { "cam-1.png" }, label = "good", by = "j.smith" }))));
            Assert.Contains("HMAC does not verify", Error(await Send(AgentFixture.TeachMessage("teach-auth", ["cam-1.png"], secret: "not-the-line-secret-but-long-enough-anyway"))));
            Assert.Contains("names key 'mes'", Error(await Send(AgentFixture.TeachMessage("teach-auth", ["cam-1.png"], keyId: "mes"))));
            Assert.Contains("not 'teach-auth'", Error(await Send(AgentFixture.TeachMessage("line9-cam1", ["cam-1.png"]))));
            Assert.Contains("more than 300 s", Error(await Send(AgentFixture.TeachMessage("teach-auth", ["cam-1.png"], issuedAt: DateTimeOffset.UtcNow.AddHours(-1)))));
            Assert.Contains("needs a nonce", Error(await Send(AgentFixture.TeachMessage("teach-auth", ["cam-1.png"], nonce: "short"))));
            // A body changed after it was sealed (another frame id) no longer verifies.
            var sealedMessage = JsonSerializer.Deserialize<TeachEnvelope>(AgentFixture.TeachMessage("teach-auth", ["cam-0.png"]), DeployProtocol.Json)!;
            var tampered = sealedMessage with { Body = sealedMessage.Body!.Replace("cam-0.png", "cam-1.png", StringComparison.Ordinal) };
            Assert.Contains("HMAC does not verify", Error(await Send(JsonSerializer.SerializeToUtf8Bytes(tampered, DeployProtocol.Json))));
            Assert.Equal(0, host.Services.GetRequiredService<TeachSet>().Count);

            // The line's SCADA: taken, and "by" is the authenticated sender, whatever the body claims.
            var taken = await Send(authentic);
            Assert.Null(Error(taken));
            Assert.Equal(["cam-1.png"], taken.GetProperty("accepted").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("scada", taken.GetProperty("by").GetString());
            Assert.Contains("already used", Error(await Send(authentic))); // the same message again
            await host.StopAsync();
        }
        // A replay after a restart is refused too: the nonces are kept on disk.
        using (var again = await AgentFixture.StartAgentAsync(config))
        {
            Assert.Contains("already used", Error(await Send(authentic)));
            await again.StopAsync();
        }
        var frame = new TeachSet(Path.Combine(work.File("state"), "teach")).Frames().Single();
        Assert.Equal(("scada", "j.smith"), (frame.By, frame.Operator));
    }

    [Fact]
    public async Task A_kept_frame_is_never_replaced_by_a_later_one_with_its_id_and_frames_that_were_not_scored_are_not_kept()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("frame-ids", work, settleMilliseconds: 100);
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/frame-ids/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        TestData.DropCopy(work.File("inbox"), "part-7.png", fixture.Pngs[0]); // the good part the operator saw
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 1, Patience));
        TestData.DropCopy(work.File("inbox"), "part-7.png", fixture.Pngs[2]); // a cut part sent later under the same id
        TestData.Drop(work.File("inbox"), "broken.png", "not an image"u8.ToArray());
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 3, Patience));

        await probe.PublishAsync("edgepatchcore/frame-ids/teach", AgentFixture.TeachMessage("frame-ids", ["part-7.png", "broken.png"]));
        Assert.True(await probe.WaitForAsync(p => p.Messages("/teach/status").Count == 1, Patience));
        var status = probe.Messages("/teach/status")[0].Json;
        Assert.Empty(status.GetProperty("accepted").EnumerateArray());
        Assert.Contains("more than one frame came with id part-7.png", status.GetProperty("refused")[0].GetProperty("reason").GetString());
        Assert.Equal(["broken.png"], status.GetProperty("unknown").EnumerateArray().Select(e => e.GetString()));

        var store = host.Services.GetRequiredService<FrameStore>();
        Assert.Equal(File.ReadAllBytes(fixture.Pngs[0]), File.ReadAllBytes(store.Find("part-7.png")!.ImagePath)); // the first one stays
        Assert.Null(store.Find("broken.png"));
        Assert.Equal(1, host.Services.GetRequiredService<DropCounter>().Count("frame-id-repeated"));
        await host.StopAsync();
    }

    [Fact]
    public async Task Teach_requests_are_answered_or_counted_never_dropped_silently()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("teach-flood", work, settleMilliseconds: 100);
        var logs = new CapturedLogs();
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/teach-flood/teach/status");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config, logs);
        const int Requests = 2000;
        // One request answered first: the agent is connected and subscribed (what is published before that is not for it).
        while (probe.Messages("").Count == 0)
        {
            await probe.PublishAsync("edgepatchcore/teach-flood/teach", AgentFixture.TeachMessage("teach-flood", ["warm-up"]));
            await probe.WaitForAsync(p => p.Messages("").Count > 0, TimeSpan.FromSeconds(2));
        }
        await Task.Delay(500);
        int before = probe.Messages("").Count;
        var started = DateTime.UtcNow;
        for (int i = 0; i < Requests; i++) await probe.PublishAsync("edgepatchcore/teach-flood/teach", AgentFixture.TeachMessage("teach-flood", [$"none-{i}"]));
        var drops = host.Services.GetRequiredService<DropCounter>();
        int Answered(MqttProbe p) => p.Messages("").Count - before;
        Assert.True(await probe.WaitForAsync(p => Answered(p) + drops.Count("teach-request") + drops.Count("teach-answer") == Requests, TimeSpan.FromSeconds(120)),
                    $"{Answered(probe)} answered + {drops.Count("teach-request")} dropped + {drops.Count("teach-answer")} answers lost of {Requests}");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(120));
        if (drops.Count("teach-request") > 0)
            Assert.Contains(logs.Lines, l => l.Contains("Dropped (teach-request)", StringComparison.Ordinal));
        Assert.True(logs.Lines.Count(l => l.Contains("Dropped (", StringComparison.Ordinal)) <= 20, "drops must be logged at a limited rate");
        await host.StopAsync();
    }
}

/// <summary>`trainer collect` and the agent: signed requests only, answers only from the device asked, for the request asked.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class CollectAuthenticationTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Collect_needs_the_plant_key_and_a_replayed_request_is_refused()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("coll-auth", work, settleMilliseconds: 100);
        string served = work.File("served.pcb");
        fixture.Signed(fixture.ModelA, served, version: 1);
        config["Agent:Artifact"] = served;
        config["Agent:TrustedKeys:0"] = fixture.PlantPublicKey;
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/coll-auth/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        TestData.DropCopy(work.File("inbox"), "c-0.png", fixture.Pngs[0]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 1, Patience));
        await probe.PublishAsync("edgepatchcore/coll-auth/teach", AgentFixture.TeachMessage("coll-auth", ["c-0.png"]));
        Assert.True(await probe.WaitForAsync(p => p.Messages("/teach/status").Count == 1, Patience));
        string broker = $"127.0.0.1:{fixture.Broker.Port}";

        // Without the key, or with another key: refused, with the reason, and nothing of the teach set leaves the device.
        var unsigned = await Task.Run(() => TrainerRunner.Run("collect", "--broker", broker, "--device", "coll-auth", "--out", work.File("u"), "--timeout", "20"));
        Assert.NotEqual(0, unsigned.ExitCode);
        Assert.Contains("not signed", unsigned.Error);
        string stranger = work.File("stranger.pem");
        SigningKeys.Generate(stranger);
        var foreign = await Task.Run(() => TrainerRunner.Run("collect", "--broker", broker, "--device", "coll-auth", "--out", work.File("f"), "--timeout", "20", "--sign", stranger));
        Assert.NotEqual(0, foreign.ExitCode);
        Assert.Contains("not among the trusted keys", foreign.Error);
        foreach (var r in new[] { unsigned, foreign }) r.AssertNoStackTrace();
        Assert.False(Directory.Exists(Path.Combine(work.File("u"), "good")) && Directory.EnumerateFiles(Path.Combine(work.File("u"), "good")).Any());
        Assert.DoesNotContain(probe.Messages(""), m => m.Topic.StartsWith("edgepatchcore/coll-auth/teach/collect/", StringComparison.Ordinal)
                                                        && m.Json.TryGetProperty("entries", out var e) && e.GetArrayLength() > 0);

        // With the plant key: collected. The request it sent, recorded off the broker and sent again, is refused as a replay.
        var signed = await Task.Run(() => TrainerRunner.Run("collect", "--broker", broker, "--device", "coll-auth", "--out", work.File("ok"), "--timeout", "30", "--sign", fixture.PlantKey));
        Assert.True(signed.ExitCode == 0, signed.Error + signed.Out);
        Assert.Single(Directory.GetFiles(Path.Combine(work.File("ok"), "good")));
        var recorded = probe.Messages("/teach/collect").Last(m => ReadRequest(m.Payload) is { Type: CollectProtocol.List });
        string collectId = ReadRequest(recorded.Payload)!.CollectId;
        int before = probe.Messages($"/teach/collect/{collectId}").Count;
        await probe.PublishAsync(recorded.Topic, recorded.Payload);
        Assert.True(await probe.WaitForAsync(p => p.Messages($"/teach/collect/{collectId}").Count > before, Patience), "no answer to the replay");
        var answer = probe.Messages($"/teach/collect/{collectId}")[^1].Json;
        Assert.Equal("error", answer.GetProperty("type").GetString());
        Assert.Contains("already used", answer.GetProperty("message").GetString());
        await host.StopAsync();
    }

    [Fact]
    public async Task The_collector_takes_answers_only_from_the_device_it_asked_for_the_request_it_sent()
    {
        using var work = new TempFolder();
        // No agent serves "coll-ghost": whatever answers is somebody else. A forger reads each request and answers at once,
        // once as another device (with the request's nonce), once as this device for an earlier request.
        string prefix = "edgepatchcore/coll-ghost";
        await using var forger = new MqttProbe(fixture.Broker.Port, prefix + "/teach/collect");
        await forger.StartAsync();
        using var stop = new CancellationTokenSource();
        var forging = Task.Run(async () =>
        {
            int seen = 0;
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(20);
                var requests = forger.Messages("/teach/collect");
                for (; seen < requests.Count; seen++)
                {
                    var request = ReadRequest(requests[seen].Payload)!;
                    var entry = new CollectEntry("evil", "good/evil.png", 4, "00", "gasket", null, "ok", 1, 2, DateTimeOffset.UtcNow, "x", null, DateTimeOffset.UtcNow);
                    foreach (var forged in new[]
                    {
                        new CollectAnswer(CollectProtocol.List, "line9-cam1", [entry], null, prefix, request.Nonce),
                        new CollectAnswer(CollectProtocol.List, "coll-ghost", [entry], null, prefix, "0123456789abcdef0123456789abcdef"),
                    })
                        await forger.PublishAsync(CollectProtocol.AnswerTopic(prefix, request.CollectId), JsonSerializer.SerializeToUtf8Bytes(forged, DeployProtocol.Json));
                }
            }
        });
        var r = await Task.Run(() => TrainerRunner.Run("collect", "--broker", $"127.0.0.1:{fixture.Broker.Port}", "--device", "coll-ghost", "--out", work.File("out"),
                                                       "--timeout", "5", "--sign", fixture.PlantKey));
        stop.Cancel();
        await forging;
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("no answer from edgepatchcore/coll-ghost", r.Error);
        Assert.True(forger.Messages("/teach/collect").Count >= 1, "the forger saw no request");
        Assert.False(File.Exists(Path.Combine(work.File("out"), "manifest.json")));
        Assert.Empty(Directory.EnumerateFiles(work.File("out"), "*", SearchOption.AllDirectories));
        r.AssertNoStackTrace();
    }

    /// <summary>The collect request inside a signed message as the broker carried it (no check of the signature: the test reads what anyone could read).</summary>
    private static CollectRequest? ReadRequest(byte[] payload)
    {
        try
        {
            var signed = JsonSerializer.Deserialize<SignedStatement>(payload, DeployProtocol.Json);
            return signed?.Unchecked() is { } bytes ? JsonSerializer.Deserialize<CollectRequest>(bytes, DeployProtocol.Json) : null;
        }
        catch (JsonException) { return null; }
    }
}

/// <summary>Models derived on the device: always from the signed model, within a row budget, announced, and reverted by one signed request.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class DerivedModelTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_derived_model_derives_from_the_signed_one_and_a_signed_revert_serves_the_signed_one_again()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("derive", work, settleMilliseconds: 100);
        string served = work.File("served.pcb");
        string signedId = fixture.Signed(fixture.ModelA, served, version: 1);
        config["Agent:Artifact"] = served;
        config["Agent:TrustedKeys:0"] = fixture.PlantPublicKey;
        config["Agent:Teach:OnDevice"] = "true";
        config["Agent:Teach:AllowUnsignedDerived"] = "true";
        var logs = new CapturedLogs();
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/derive/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config, logs);
        Assert.Contains(logs.Lines, l => l.Contains("unsigned derived models allowed: yes", StringComparison.Ordinal)); // said at start-up
        for (int i = 0; i < 3; i++) TestData.DropCopy(work.File("inbox"), $"d{i}.png", fixture.Pngs[i == 2 ? 5 : i]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 3, Patience));
        List<JsonElement> Derived(MqttProbe p) => p.Messages("/event").Select(m => m.Json).Where(j => j.GetProperty("type").GetString() == "model-derived").ToList();

        await probe.PublishAsync("edgepatchcore/derive/teach", AgentFixture.TeachMessage("derive", ["d0.png"]));
        Assert.True(await probe.WaitForAsync(p => Derived(p).Count == 1, Patience), "no first derived model");
        await probe.PublishAsync("edgepatchcore/derive/teach", AgentFixture.TeachMessage("derive", ["d1.png"]));
        Assert.True(await probe.WaitForAsync(p => Derived(p).Count == 2, Patience), "no second derived model");
        var details = Derived(probe).Select(j => j.GetProperty("details")).ToList();
        Assert.All(details, d => Assert.Equal(signedId, d.GetProperty("parent").GetString())); // never from the previous derived model
        Assert.Equal(["1", "2"], details.Select(d => d.GetProperty("addedImages").GetString())); // the teach set's frames of the product

        // The plant engineer reverts with one signed request; the next verdict comes from the signed model.
        var revert = await Task.Run(() => TrainerRunner.Run("collect", "--revert", "--broker", $"127.0.0.1:{fixture.Broker.Port}", "--device", "derive",
                                                            "--sign", fixture.PlantKey, "--timeout", "60"));
        Assert.True(revert.ExitCode == 0, revert.Error + revert.Out);
        Assert.Contains("serving the signed model again for gasket", revert.Out);
        TestData.DropCopy(work.File("inbox"), "after.png", fixture.Pngs[1]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Any(v => v.FrameId == "after.png"), Patience));
        var model = probe.Verdicts().Single(v => v.FrameId == "after.png").Model!;
        Assert.Equal(signedId, model.Id);
        Assert.Null(model.DerivedFrom);
        var unsignedRevert = await Task.Run(() => TrainerRunner.Run("collect", "--revert", "--broker", $"127.0.0.1:{fixture.Broker.Port}", "--device", "derive", "--timeout", "20"));
        Assert.NotEqual(0, unsignedRevert.ExitCode); // a revert is a control message like any other
        await host.StopAsync();
    }

    [Fact]
    public async Task A_teach_over_the_row_budget_is_not_served()
    {
        using var work = new TempFolder();
        var config = fixture.FolderConfig("derive-budget", work, settleMilliseconds: 100);
        config["Agent:Teach:OnDevice"] = "true";
        config["Agent:Teach:MaxDerivedRows"] = "1";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/derive-budget/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        TestData.DropCopy(work.File("inbox"), "b0.png", fixture.Pngs[0]);
        Assert.True(await probe.WaitForAsync(p => p.Verdicts().Count == 1, Patience));
        await probe.PublishAsync("edgepatchcore/derive-budget/teach", AgentFixture.TeachMessage("derive-budget", ["b0.png"]));
        Assert.True(await probe.WaitForAsync(p => p.Messages("/event").Any(m => m.Json.GetProperty("type").GetString() == "model-derive-failed"), Patience));
        Assert.Contains("Agent:Teach:MaxDerivedRows", probe.Messages("/event").First(m => m.Json.GetProperty("type").GetString() == "model-derive-failed")
            .Json.GetProperty("message").GetString());
        Assert.DoesNotContain(probe.Messages("/event"), m => m.Json.GetProperty("type").GetString() == "model-derived");
        await host.StopAsync();
    }
}

/// <summary>The teach set on disk: bounded in bytes as well as count, its manifest appended to, never rewritten for a mark.</summary>
public class TeachSetTests
{
    private static StoredFrame Frame(TempFolder folder, string id, int bytes)
    {
        string path = folder.File(id + ".img");
        File.WriteAllBytes(path, new byte[bytes]);
        var verdict = new EdgePatchCore.Agent.Messages.Verdict
        {
            FrameId = id, Source = "test", Product = "gasket", CapturedAt = DateTimeOffset.UtcNow, ScoredAt = DateTimeOffset.UtcNow,
            Result = EdgePatchCore.Agent.Messages.Verdict.Ok, Score = 1, Threshold = 2, LatencyMs = new(1, 1, 2),
        };
        return new StoredFrame(1, id, path, bytes, verdict);
    }

    [Fact]
    public void Marks_append_to_the_manifest_and_the_byte_cap_refuses_what_does_not_fit()
    {
        using var folder = new TempFolder();
        var set = new TeachSet(folder.File("teach"), capacity: 100, maxBytes: 3 << 20);
        set.Add(Frame(folder, "a", 1 << 20), "good", "scada", null);
        set.Commit();
        string manifest = set.ManifestPath;
        long afterOne = new FileInfo(manifest).Length;
        set.Add(Frame(folder, "b", 1 << 20), "good", "scada", null);
        set.Commit();
        Assert.Equal(2, File.ReadAllLines(manifest).Length);
        Assert.True(new FileInfo(manifest).Length < 2 * afterOne + 64, "the second mark appended one line");
        var full = Assert.Throws<IOException>(() => set.Add(Frame(folder, "c", 2 << 20), "good", "scada", null));
        Assert.Contains("Agent:Teach:MaxTaughtBytes", full.Message);
        File.AppendAllText(manifest, "{\"frameId\": \"torn"); // a power cut in the middle of an append
        var reopened = new TeachSet(folder.File("teach"), capacity: 100, maxBytes: 3 << 20);
        Assert.Equal(["a", "b"], reopened.Frames().Select(f => f.FrameId));
        Assert.Equal(2L << 20, reopened.Bytes);
        Assert.Equal(1, reopened.Remove(["good/" + Path.GetFileName(Directory.GetFiles(reopened.GoodFolder).Order().First())]));
        Assert.Single(File.ReadAllLines(manifest));
    }

    [Fact]
    public async Task A_full_frame_keeper_counts_what_it_does_not_keep_and_a_teach_request_does_not_wait_for_it()
    {
        using var folder = new TempFolder();
        var store = new FrameStore(folder.Path, maxFrames: 100, maxBytes: 1 << 20, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var drops = new DropCounter(Microsoft.Extensions.Logging.Abstractions.NullLogger<DropCounter>.Instance);
        var keeper = new FrameKeeper(store, drops); // not started: nothing is written, the queue fills
        var verdict = Frame(folder, "x", 1).Verdict;
        for (int i = 0; i < 100; i++) keeper.Keep($"f{i}", [1, 2, 3], null, verdict);
        Assert.Equal(100 - FrameKeeper.Capacity, drops.Count("frame-not-kept"));
        // Only the queued frames are pending: once they are written, a flush returns at once.
        using var cancel = new CancellationTokenSource();
        await keeper.StartAsync(cancel.Token);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await keeper.FlushAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"the flush waited {watch.Elapsed.TotalSeconds:F1} s for frames that were never queued");
        Assert.Equal(FrameKeeper.Capacity, store.Count);
        cancel.Cancel();
    }
}

/// <summary>The nonces of control messages: a replay is refused across a restart, expired ones go, the file stays small.</summary>
public class NonceLedgerTests
{
    [Fact]
    public void A_used_nonce_is_refused_until_it_expires_and_the_file_keeps_only_live_ones()
    {
        using var state = new TempFolder();
        var ledger = new EdgePatchCore.Agent.Trust.NonceLedger(state.Path);
        var soon = DateTimeOffset.UtcNow.AddMinutes(5);
        Assert.Null(ledger.TryUse("teach:aaaaaaaaaaaaaaaa", soon));
        Assert.Contains("already used", ledger.TryUse("teach:aaaaaaaaaaaaaaaa", soon));
        Assert.Null(ledger.TryUse("teach:bbbbbbbbbbbbbbbb", DateTimeOffset.UtcNow.AddMilliseconds(-1))); // expired at once
        var reopened = new EdgePatchCore.Agent.Trust.NonceLedger(state.Path); // a restart
        Assert.Contains("already used", reopened.TryUse("teach:aaaaaaaaaaaaaaaa", soon));
        Assert.Null(reopened.TryUse("teach:bbbbbbbbbbbbbbbb", soon)); // its earlier use had expired
        string file = Path.Combine(state.Path, "trust", "nonces.log");
        for (int i = 0; i < 3000; i++) reopened.TryUse($"collect:{i:D16}", DateTimeOffset.UtcNow.AddMilliseconds(-1));
        Assert.True(File.ReadAllLines(file).Length <= 1002, $"{File.ReadAllLines(file).Length} lines for 2 live nonces");
        Assert.Contains("already used", new EdgePatchCore.Agent.Trust.NonceLedger(state.Path).TryUse("teach:aaaaaaaaaaaaaaaa", soon));
    }
}
