using System.Text.Json;
using EdgePatchCore.Deployment;
using EdgePatchCore.Tests.Agent;
using MQTTnet;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace EdgePatchCore.Tests.Messaging;

/// <summary>
/// The trainer's half of the deploy protocol against a real mosquitto and a device that loses requests (fault
/// injection: an MQTT client on the device's topics that drops the first commit, as a flooded agent drops requests).
/// </summary>
[Trait("Category", IntegrationTests.Category)]
public class DeployClientTests
{
    private const string Prefix = "edgepatchcore/lossy";

    private static async Task<IMqttClient> ConnectAsync(int port, Func<MqttApplicationMessageReceivedEventArgs, Task> handler, CancellationToken cancel)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += handler;
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithClientId("c-" + Guid.NewGuid().ToString("N")[..8]).Build(), cancel);
        return client;
    }

    [Fact]
    public async Task A_lost_commit_is_sent_again_and_the_deploy_completes()
    {
        using var broker = new MosquittoBroker();
        using var work = new TempFolder();
        EdgePatchCore.Artifacts.ArtifactFile.Write(work.File("m.pcb"), TestData.SmallContent());
        var artifact = EdgePatchCore.Artifacts.ArtifactFile.Read(work.File("m.pcb"));
        var bytes = File.ReadAllBytes(work.File("m.pcb"));
        int commits = 0;
        IMqttClient? device = null;
        device = await ConnectAsync(broker.Port, async e =>
        {
            var m = e.ApplicationMessage;
            string? Property(string name) => m.UserProperties?.FirstOrDefault(p => p.Name == name)?.ReadValueAsString();
            string transfer = Property(DeployProtocol.TransferProperty) ?? "";
            DeployStatus? answer = Property(DeployProtocol.TypeProperty) switch
            {
                DeployProtocol.Begin => new DeployStatus(transfer, DeployProtocol.Receiving, Missing: [], MissingCount: 0),
                DeployProtocol.Commit when ++commits == 1 => null, // lost
                DeployProtocol.Commit => new DeployStatus(transfer, DeployProtocol.Deployed, Model: "m1"),
                _ => null,
            };
            if (answer is not null)
                await device!.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(DeployProtocol.StatusTopic(Prefix))
                    .WithPayload(JsonSerializer.SerializeToUtf8Bytes(answer, DeployProtocol.Json)).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
        }, CancellationToken.None);
        await device.SubscribeAsync(DeployProtocol.RequestTopic(Prefix), MqttQualityOfServiceLevel.AtLeastOnce);

        // Timeout 20 s: the commit is sent again after 5 s without an answer.
        using var client = await DeployClient.ConnectAsync((h, c) => ConnectAsync(broker.Port, h, c), Prefix, TimeSpan.FromSeconds(20), CancellationToken.None);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var status = await client.SendAsync("m.pcb", bytes, artifact, 256 << 10, slot: null, _ => { }, progress: null, CancellationToken.None);
        Assert.Equal(DeployProtocol.Deployed, status.State);
        Assert.Equal(2, commits);
        Assert.InRange(clock.Elapsed.TotalSeconds, 4, 19);
        await client.DisconnectAsync();
        await device.DisconnectAsync();
        device.Dispose();
    }
}
