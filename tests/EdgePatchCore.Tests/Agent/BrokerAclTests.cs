using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgePatchCore.Tests.Cli;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// The broker ACL of docs/SECURITY.md (packaging/mosquitto/edgepatchcore.acl) on a real mosquitto with passwords: the
/// agent, the engineering workstation and SCADA each do their job with it, and nobody gets more.
/// </summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class BrokerAclTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private const string Device = "line3-cam1", Prefix = "edgepatchcore/line3-cam1";
    private static readonly string[] Users = ["edge-line3-cam1", "trainer-workstation", "scada", "cam-line3-1", "plc-line3", "stranger"];

    private static string Password(string user) => user + "-pw-0123";

    private static MosquittoBroker StartBroker() => new(folder =>
    {
        foreach (var (user, i) in Users.Select((u, i) => (u, i)))
        {
            using var p = Process.Start("mosquitto_passwd", [.. i == 0 ? new[] { "-c" } : [], "-b", folder.File("passwd"), user, Password(user)])!;
            p.WaitForExit();
        }
        return $"""
            allow_anonymous false
            password_file {folder.File("passwd")}
            acl_file {TestData.RepositoryFile("packaging/mosquitto/edgepatchcore.acl")}
            """;
    });

    private static MqttProbe Probe(MosquittoBroker broker, string user, string filter) =>
        new(broker.Port, filter, b => b.WithCredentials(user, Password(user)));

    [Fact]
    public async Task Each_party_does_its_job_under_the_acl_and_nothing_more()
    {
        using var broker = StartBroker();
        using var work = new TempFolder();
        string served = work.File("served.pcb");
        fixture.Signed(fixture.ModelA, served, version: 1);
        var config = fixture.Config(Device, served, work.File("state"));
        config["Agent:Broker:Port"] = broker.Port.ToString(CultureInfo.InvariantCulture);
        config["Agent:Broker:Username"] = "edge-line3-cam1";
        File.WriteAllText(work.File("agent-password"), Password("edge-line3-cam1"));
        config["Agent:Broker:PasswordFile"] = work.File("agent-password");
        config["Agent:TrustedKeys:0"] = fixture.PlantPublicKey;
        config["Agent:Sources:Folder:Path"] = work.File("inbox");
        config["Agent:Sources:Folder:SettleMilliseconds"] = "100";
        config["Agent:Sparkplug:Enabled"] = "true";
        config["Agent:Sparkplug:GroupId"] = "plant1";
        Directory.CreateDirectory(work.File("inbox"));

        // SCADA listens to everything it may: the JSON topics and the Sparkplug group; a stranger listens to everything.
        await using var scada = Probe(broker, "scada", "#");
        await using var stranger = Probe(broker, "stranger", "#");
        await scada.StartAsync();
        await stranger.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        TestData.DropCopy(work.File("inbox"), "acl-0.png", fixture.Pngs[0]);
        Assert.True(await scada.WaitForAsync(p => p.Verdicts().Count == 1, Patience), "SCADA got no verdict");
        Assert.True(await scada.WaitForAsync(p => p.Messages("").Any(m => m.Topic == "spBv1.0/plant1/NBIRTH/line3-cam1"), Patience), "SCADA got no NBIRTH");

        // SCADA teaches (its mark is answered); the stranger's mark never reaches the agent.
        await stranger.PublishAsync($"{Prefix}/teach", AgentFixture.TeachMessage(Device, ["acl-0.png"]));
        await stranger.PublishAsync($"{Prefix}/deploy/request", "{}"u8.ToArray());
        await scada.PublishAsync($"{Prefix}/deploy/request", "{}"u8.ToArray()); // SCADA cannot deploy either
        await Task.Delay(1500);
        Assert.Empty(scada.Messages("/teach/status"));
        Assert.Empty(scada.Messages("/deploy/status"));
        await scada.PublishAsync($"{Prefix}/teach", AgentFixture.TeachMessage(Device, ["acl-0.png"]));
        Assert.True(await scada.WaitForAsync(p => p.Messages("/teach/status").Count == 1, Patience), "SCADA's teach mark was not answered");
        Assert.Equal("acl-0.png", scada.Messages("/teach/status")[0].Json.GetProperty("accepted")[0].GetString());

        // The workstation collects (signed); SCADA and the stranger see neither the requests nor what they return.
        string password = work.File("trainer-password");
        File.WriteAllText(password, Password("trainer-workstation"));
        var collect = await Task.Run(() => TrainerRunner.Run("collect", "--broker", $"127.0.0.1:{broker.Port}", "--device", Device, "--out", work.File("collected"),
            "--username", "trainer-workstation", "--password-file", password, "--sign", fixture.PlantKey, "--timeout", "30"));
        Assert.True(collect.ExitCode == 0, collect.Error + collect.Out);
        Assert.Single(Directory.GetFiles(Path.Combine(work.File("collected"), "good")));
        foreach (var probe in new[] { scada, stranger })
            Assert.DoesNotContain(probe.Messages(""), m => m.Topic.Contains("/teach/collect", StringComparison.Ordinal));

        // The stranger received nothing at all, and the camera user can publish frames but read nothing.
        Assert.Empty(stranger.Messages(""));
        await using var camera = Probe(broker, "cam-line3-1", "#");
        await camera.StartAsync();
        await Task.Delay(500);
        TestData.DropCopy(work.File("inbox"), "acl-1.png", fixture.Pngs[1]);
        Assert.True(await scada.WaitForAsync(p => p.Verdicts().Count == 2, Patience));
        await Task.Delay(500);
        Assert.Empty(camera.Messages(""));
        await host.StopAsync();
    }

    [Fact]
    public async Task Only_the_PLC_gateway_can_trigger_and_it_reads_the_answers()
    {
        using var broker = StartBroker();
        await using var agent = Probe(broker, "edge-line3-cam1", $"{Prefix}/trigger");
        await using var plc = Probe(broker, "plc-line3", $"{Prefix}/#");
        await using var scada = Probe(broker, "scada", $"{Prefix}/#");
        await using var stranger = Probe(broker, "stranger", "#");
        foreach (var p in new[] { agent, plc, scada, stranger }) await p.StartAsync();
        await stranger.PublishAsync($"{Prefix}/trigger", """{"partId":"stranger"}"""u8.ToArray());
        await scada.PublishAsync($"{Prefix}/trigger", """{"partId":"scada"}"""u8.ToArray());
        await plc.PublishAsync($"{Prefix}/trigger", """{"partId":"plc"}"""u8.ToArray());
        Assert.True(await agent.WaitForAsync(p => p.Messages("/trigger").Count >= 1, Patience));
        await Task.Delay(500);
        Assert.Equal(["plc"], agent.Messages("/trigger").Select(m => m.Json.GetProperty("partId").GetString()));
        // The agent's answer reaches the PLC and SCADA, never the stranger.
        await agent.PublishAsync($"{Prefix}/result", """{"partId":"plc","result":"OK"}"""u8.ToArray());
        Assert.True(await plc.WaitForAsync(p => p.Messages("/result").Count == 1, Patience));
        Assert.True(await scada.WaitForAsync(p => p.Messages("/result").Count == 1, Patience));
        await Task.Delay(300);
        Assert.Empty(stranger.Messages("/result"));
    }
}
