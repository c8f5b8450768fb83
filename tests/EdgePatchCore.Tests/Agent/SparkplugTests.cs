using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgePatchCore.Agent.Sparkplug.Protocol;
using Google.Protobuf;
using Microsoft.Extensions.Hosting;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// The agent as a Sparkplug B edge node against a real mosquitto, every message decoded by the Eclipse Tahu
/// reference decoder and checked against the specification's session rules (<see cref="SparkplugRules"/>).
/// The broker queues QoS 0 messages for the subscriber's persistent session, so that the test sees what a
/// host that stays subscribed sees across a broker restart.
/// </summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class SparkplugTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private const string Group = "plant1";

    private static Dictionary<string, string?> Enable(Dictionary<string, string?> config, int port, string node)
    {
        config["Agent:Broker:Port"] = port.ToString(CultureInfo.InvariantCulture);
        config["Agent:Sparkplug:Enabled"] = "true";
        config["Agent:Sparkplug:GroupId"] = Group;
        config["Agent:Sparkplug:EdgeNodeId"] = node;
        config.Remove("Agent:Artifact");
        return config;
    }

    /// <summary>What the edge node published (the probe also hears the commands the test sends).</summary>
    private static List<ReceivedMessage> FromNode(MqttProbe probe) => probe.Messages("").Where(m => m.Topic.Split('/')[2] is not ("NCMD" or "DCMD")).ToList();

    private static int Count(MqttProbe probe, string type) => FromNode(probe).Count(m => m.Topic.Split('/')[2] == type);

    /// <summary>Frame ids carried by the DDATA messages (the "Inspection/Frame Id" metric, resolved through the BIRTH aliases), with their historical flag.</summary>
    private static List<(string FrameId, bool Historical)> FrameIds(IReadOnlyList<DecodedMessage> messages)
    {
        var ids = new List<(string, bool)>();
        for (int i = 0; i < messages.Count; i++)
        {
            if (messages[i].Type != "DDATA") continue;
            foreach (var metric in messages[i].Metrics)
                if (SparkplugRules.NameOf(messages, i, metric.GetProperty("alias").GetInt64()) == "Inspection/Frame Id")
                    ids.Add((metric.GetProperty("value").GetString()!, metric.TryGetProperty("isHistorical", out var h) && h.GetBoolean()));
        }
        return ids;
    }

    private static byte[] Command(string name, bool value) =>
        new Payload { Timestamp = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                      Metrics = { new Payload.Types.Metric { Name = name, Datatype = 11, BooleanValue = value } } }.ToByteArray();

    [Fact]
    public async Task Births_data_rebirth_crash_and_broker_outage_follow_the_specification()
    {
        using var broker = new MosquittoBroker(settings: "queue_qos0_messages true");
        using var work = new TempFolder();
        var config = Enable(fixture.FolderConfig("spb-node", work, settleMilliseconds: 100), broker.Port, "spb-node");
        config["Agent:Models:0:Artifact"] = fixture.ModelA;
        config["Agent:Models:0:Threshold"] = "31"; // some of the test frames are then defects (with a heat map)
        string inbox = work.File("inbox");
        await using var probe = new MqttProbe(broker.Port, $"spBv1.0/{Group}/#");
        await probe.StartAsync();
        var frames = new List<string>();
        void Drop(int n)
        {
            for (int i = 0; i < n; i++)
            {
                string name = $"f{frames.Count:D2}.png";
                TestData.DropCopy(inbox, name, fixture.Pngs[frames.Count % fixture.Pngs.Count]);
                frames.Add(name);
            }
        }
        int Done() => Directory.Exists(Path.Combine(inbox, "done")) ? Directory.GetFiles(Path.Combine(inbox, "done")).Length : 0;

        // 1. Birth, data, a rebirth request and two commands the node must refuse.
        using (var first = AgentFixture.StartAgentProcess(config))
        {
            Assert.True(await probe.WaitForAsync(p => Count(p, "DBIRTH") == 1, Patience), "no NBIRTH/DBIRTH");
            Drop(4);
            Assert.True(await probe.WaitForAsync(p => Count(p, "DDATA") >= 4, Patience), "no DDATA");
            await probe.PublishAsync($"spBv1.0/{Group}/NCMD/spb-node", Command("Node Control/Rebirth", true));
            Assert.True(await probe.WaitForAsync(p => Count(p, "NBIRTH") == 2 && Count(p, "DBIRTH") == 2, Patience), "no rebirth");
            await probe.PublishAsync($"spBv1.0/{Group}/NCMD/spb-node", Command("Inspection/Threshold", true));
            await probe.PublishAsync($"spBv1.0/{Group}/DCMD/spb-node/gasket", Command("Inspection/Verdict", true));
            Assert.True(await probe.WaitForAsync(p => Count(p, "NDATA") >= 2, Patience), "refusals not reported");
            // 2. kill -9 in the middle of a stream: the broker publishes the Will, the NDEATH of this session.
            Drop(12);
            Assert.True(await probe.WaitForAsync(p => Count(p, "DDATA") >= 7, Patience), "no DDATA for the stream");
            first.Kill();
            first.WaitForExit();
        }
        Assert.True(await probe.WaitForAsync(p => Count(p, "NDEATH") == 1, Patience), "no NDEATH after kill -9");
        Drop(2); // while no agent runs: they wait in the folder

        // 3. A restarted agent opens a new session (bdSeq + 1); then the broker goes away while frames keep coming.
        using var second = AgentFixture.StartAgentProcess(config);
        try
        {
            Assert.True(await probe.WaitForAsync(_ => Done() == 18, Patience), "the restarted agent did not score the waiting frames");
            Assert.True(await probe.WaitForAsync(p => FrameIds(TahuDecoder.Decode(FromNode(p))).Select(f => f.FrameId).Distinct().Count() == 18, Patience),
                        "not every frame's verdict arrived after the crash");
            broker.Stop();
            Drop(3);
            Assert.True(await probe.WaitForAsync(_ => Done() == 21, Patience), "frames were not scored while the broker was away");
            broker.Start();
            Assert.True(await probe.WaitForAsync(p => FrameIds(TahuDecoder.Decode(FromNode(p))).Select(f => f.FrameId).Distinct().Count() == frames.Count, Patience),
                        "not every frame's verdict arrived after the outage");
        }
        finally
        {
            second.Kill();
            second.WaitForExit();
        }
        await probe.WaitForAsync(p => Count(p, "NDEATH") == 3, TimeSpan.FromSeconds(10)); // the outage's session and the last one

        var messages = TahuDecoder.Decode(FromNode(probe));
        var sessions = SparkplugRules.Check(messages);
        Assert.True(sessions.Count >= 3, $"{sessions.Count} sessions"); // first agent, second agent, second agent after the outage
        Assert.Equal((sessions[0].BdSeq + 1) % 256, sessions[1].BdSeq);
        Assert.NotNull(sessions[0].Death); // the Will of the killed agent, with its bdSeq (checked by the rules)
        // The rebirth: a second NBIRTH with seq 0 in the first session, followed by the device's DBIRTH.
        var births = sessions[0].Messages.Select((m, i) => (m, i)).Where(x => x.m.Type == "NBIRTH").ToList();
        Assert.Equal(1, births[0].m.Metric("Models/Loaded")!.Value.GetProperty("value").GetInt64());
        Assert.Equal(EdgePatchCore.Artifacts.ArtifactFile.Read(fixture.ModelA).Id, births[0].m.Metric("Models/Ids")!.Value.GetProperty("value").GetString());
        Assert.Equal(2, births.Count);
        Assert.Equal("DBIRTH", sessions[0].Messages[births[1].i + 1].Type);
        // The refusals, reported in the node's "Node Control/Last Command" metric.
        var lastCommands = sessions[0].Messages.Where(m => m.Type == "NDATA").SelectMany(m => m.Metrics)
            .Select(metric => metric.GetProperty("value").ToString()).ToList();
        Assert.Contains(lastCommands, v => v.Contains("refused: NCMD Inspection/Threshold", StringComparison.Ordinal));
        Assert.Contains(lastCommands, v => v.Contains("refused: DCMD gasket/Inspection/Verdict", StringComparison.Ordinal));
        // Every frame's verdict, once; those scored while the broker was away arrive marked historical.
        var ids = FrameIds(messages);
        Assert.Equal(frames.Order(), ids.Select(f => f.FrameId).Distinct().Order());
        foreach (var outage in frames.Skip(18)) Assert.Contains((outage, true), ids);
        // A defect carries its heat map as bytes.
        var defect = messages.First(m => m.Type == "DDATA" && m.Metrics.Any(x => x.GetProperty("type").GetString() == "Bytes"));
        Assert.True(defect.Metrics.Single(x => x.GetProperty("type").GetString() == "Bytes").GetProperty("value").GetProperty("bytes").GetInt32() > 1000);
    }

    [Fact]
    public async Task The_node_publishes_only_while_its_primary_host_is_online()
    {
        using var broker = new MosquittoBroker(settings: "queue_qos0_messages true");
        using var work = new TempFolder();
        var config = Enable(fixture.FolderConfig("spb-host", work, settleMilliseconds: 100), broker.Port, "spb-host");
        config["Agent:Models:0:Artifact"] = fixture.ModelA;
        config["Agent:Sparkplug:PrimaryHostId"] = "scada1";
        await using var probe = new MqttProbe(broker.Port, $"spBv1.0/{Group}/#");
        await probe.StartAsync();
        long clock = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Task State(bool online) => probe.PublishRetainedAsync("spBv1.0/STATE/scada1", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { online, timestamp = ++clock })));

        await State(false);
        using var host = await AgentFixture.StartAgentAsync(config);
        await Task.Delay(3000);
        Assert.Equal(0, Count(probe, "NBIRTH")); // the host is offline: nothing is published
        await State(true);
        Assert.True(await probe.WaitForAsync(p => Count(p, "NBIRTH") == 1 && Count(p, "DBIRTH") == 1, Patience), "no birth once the host is online");
        await State(false);
        Assert.True(await probe.WaitForAsync(p => Count(p, "NDEATH") == 1, Patience), "no NDEATH when the host went offline");
        await Task.Delay(2000);
        Assert.Equal(1, Count(probe, "NBIRTH"));
        await State(true);
        Assert.True(await probe.WaitForAsync(p => Count(p, "NBIRTH") == 2, Patience), "no new session when the host came back");
        await host.StopAsync();
        Assert.True(await probe.WaitForAsync(p => Count(p, "NDEATH") == 2, Patience), "no NDEATH on a clean stop");

        var sessions = SparkplugRules.Check(TahuDecoder.Decode(FromNode(probe)));
        Assert.Equal(2, sessions.Count);
        Assert.Equal((sessions[0].BdSeq + 1) % 256, sessions[1].BdSeq);
    }
}

/// <summary>The session's numbering and the persisted bdSeq, without a broker.</summary>
public class SparkplugSessionTests
{
    [Fact]
    public void Seq_starts_at_0_on_every_NBIRTH_wraps_after_255_and_NDEATH_carries_only_bdSeq()
    {
        var session = new EdgePatchCore.Agent.Sparkplug.SparkplugSession(new("g", "n"), bdSeq: 7);
        static Payload Read(EdgePatchCore.Agent.Sparkplug.SparkplugMessage m) => Payload.Parser.ParseFrom(m.Payload);
        Assert.Equal(0ul, Read(session.NodeBirth([])).Seq);
        var seqs = Enumerable.Range(0, 300).Select(_ => Read(session.NodeData([])).Seq).ToList();
        Assert.Equal(Enumerable.Range(1, 300).Select(i => (ulong)(i % 256)), seqs);
        Assert.Equal(0ul, Read(session.NodeBirth([])).Seq); // a rebirth starts again at 0
        var death = Read(session.NodeDeath());
        Assert.False(death.HasSeq);
        Assert.Equal("bdSeq", death.Metrics.Single().Name);
        Assert.Equal(7ul, death.Metrics.Single().LongValue);
        Assert.Equal("spBv1.0/g/NDEATH/n", session.NodeDeath().Topic);
    }

    [Fact]
    public void BdSeq_goes_up_by_one_per_session_survives_a_restart_and_wraps_after_255()
    {
        using var state = new TempFolder();
        var counter = new EdgePatchCore.Agent.Sparkplug.BdSeqCounter(state.Path);
        Assert.Equal(0, counter.Next());
        Assert.Equal(1, counter.Next());
        Assert.Equal(2, new EdgePatchCore.Agent.Sparkplug.BdSeqCounter(state.Path).Next()); // a restarted agent
        File.WriteAllText(Path.Combine(state.Path, "bdseq"), "255");
        Assert.Equal(255, counter.Next());
        Assert.Equal(0, counter.Next());
    }

    [Fact]
    public void Configuration_needs_a_group_and_ids_that_are_single_topic_levels()
    {
        static List<string> Problems(EdgePatchCore.Agent.Configuration.SparkplugOptions sparkplug) =>
            new EdgePatchCore.Agent.Sparkplug.SparkplugOptionsValidation().Problems(new EdgePatchCore.Agent.Configuration.AgentOptions
                { Artifact = "m.pcb", DeviceId = "cam1", Sparkplug = sparkplug, Sources = new() { Folder = new() { Path = "/tmp" } } });
        Assert.Contains(Problems(new() { Enabled = true }), p => p.Contains("Agent:Sparkplug:GroupId", StringComparison.Ordinal));
        Assert.Contains(Problems(new() { Enabled = true, GroupId = "plant/1" }), p => p.Contains("Agent:Sparkplug:GroupId", StringComparison.Ordinal));
        Assert.Contains(Problems(new() { Enabled = true, GroupId = "p", EdgeNodeId = "a+b" }), p => p.Contains("EdgeNodeId", StringComparison.Ordinal));
        Assert.Contains(Problems(new() { Enabled = true, GroupId = "p", PrimaryHostId = "#" }), p => p.Contains("PrimaryHostId", StringComparison.Ordinal));
        Assert.DoesNotContain(Problems(new() { Enabled = true, GroupId = "p", PrimaryHostId = "scada1" }), p => p.Contains("Sparkplug", StringComparison.Ordinal));
        Assert.DoesNotContain(Problems(new()), p => p.Contains("Sparkplug", StringComparison.Ordinal)); // off by default
    }
}
