using System.Security.Cryptography;
using System.Text.Json;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Deployment;
using EdgePatchCore.Tests.Artifacts;
using EdgePatchCore.Tests.Cli;
using Microsoft.Extensions.Hosting;

namespace EdgePatchCore.Tests.Agent;

/// <summary>`trainer deploy` to a running agent over the real broker: swap, refusal, rollback, resume.</summary>
[Collection("agent")]
public class DeploymentTests(AgentFixture fixture)
{
    [Fact]
    public async Task Deploy_swaps_the_model_refuses_a_tampered_one_rolls_back_and_resumes()
    {
        using var work = new TempFolder();
        var (key, publicKey, _) = SigningKeys.Generate(work.File("plant.pem"));
        string Signed(string source, string name)
        {
            File.Copy(source, work.File(name));
            using var k = SigningKeys.LoadPrivate(key);
            return ArtifactFile.Sign(work.File(name), k).Id;
        }
        string idA = Signed(fixture.ModelA, "a.pcb"), idB = Signed(fixture.ModelB, "b.pcb");
        SigningTests.TamperKeepingSignature(work.File("b.pcb"), work.File("tampered.pcb"));
        Directory.CreateDirectory(work.File("models"));
        File.Copy(work.File("a.pcb"), work.File("models/gasket.pcb"));

        var config = fixture.Config("ota-test", work.File("models/gasket.pcb"), work.File("state"));
        config["Agent:TrustedKeys:0"] = publicKey;
        config["Agent:Sources:Mqtt:Topic"] = "ota-test/camera";
        await using var probe = new MqttProbe(fixture.Broker.Port, "edgepatchcore/ota-test/#");
        await probe.StartAsync();
        using var host = await AgentFixture.StartAgentAsync(config);
        Assert.True(await probe.WaitForAsync(p => p.Messages("/status").Count > 0, TimeSpan.FromSeconds(30)));
        string broker = $"127.0.0.1:{fixture.Broker.Port}";
        int frame = 0;
        async Task<string> ServingModelAsync()
        {
            string id = $"ota-{frame++}";
            await probe.PublishAsync("ota-test/camera", File.ReadAllBytes(fixture.Pngs[0]), ("frameId", id));
            Assert.True(await probe.WaitForAsync(p => p.Verdicts().Any(v => v.FrameId == id), TimeSpan.FromSeconds(60)));
            return probe.Verdicts().Single(v => v.FrameId == id).Model!.Id;
        }
        Assert.Equal(idA, await ServingModelAsync());

        var deploy = await Task.Run(() => TrainerRunner.Run("deploy", work.File("b.pcb"), "--broker", broker, "--device", "ota-test", "--timeout", "60"));
        Assert.True(deploy.ExitCode == 0, deploy.Out + deploy.Error);
        Assert.Contains($"deployed: model {idB}", deploy.Out);
        Assert.Equal(idB, await ServingModelAsync());

        var tampered = await Task.Run(() => TrainerRunner.Run("deploy", work.File("tampered.pcb"), "--broker", broker, "--device", "ota-test", "--timeout", "60"));
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains("refused by the device", tampered.Error);
        Assert.Contains("does not verify", tampered.Error);
        tampered.AssertNoStackTrace();
        Assert.Equal(idB, await ServingModelAsync());

        var rollback = await Task.Run(() => TrainerRunner.Run("deploy", "--rollback", "--broker", broker, "--device", "ota-test", "--timeout", "60"));
        Assert.True(rollback.ExitCode == 0, rollback.Out + rollback.Error);
        Assert.Contains($"rolled back: model {idA}", rollback.Out);
        Assert.Equal(idA, await ServingModelAsync());

        // An interrupted transfer of B: begin and the first 3 chunks arrived, then the workstation went away.
        var bytes = File.ReadAllBytes(work.File("b.pcb"));
        string sha = DeployProtocol.Hex(SHA256.HashData(bytes));
        int chunk = 64 << 10;
        var begin = new DeployBegin(DeployProtocol.TransferIdOf(sha), "b.pcb", bytes.Length, sha, chunk, (bytes.Length + chunk - 1) / chunk);
        await probe.PublishAsync(DeployProtocol.RequestTopic("edgepatchcore/ota-test"), JsonSerializer.SerializeToUtf8Bytes(begin, DeployProtocol.Json),
                                 (DeployProtocol.TypeProperty, DeployProtocol.Begin), (DeployProtocol.TransferProperty, begin.TransferId));
        for (int i = 0; i < 3; i++)
        {
            var part = bytes.AsSpan(i * chunk, chunk).ToArray();
            await probe.PublishAsync(DeployProtocol.RequestTopic("edgepatchcore/ota-test"), part,
                (DeployProtocol.TypeProperty, DeployProtocol.Chunk), (DeployProtocol.TransferProperty, begin.TransferId),
                (DeployProtocol.IndexProperty, i.ToString()), (DeployProtocol.HashProperty, DeployProtocol.Hex(SHA256.HashData(part))));
        }
        await Task.Delay(1000);
        var resumed = await Task.Run(() => TrainerRunner.Run("deploy", work.File("b.pcb"), "--broker", broker, "--device", "ota-test", "--chunk-size", "64", "--timeout", "60"));
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Error);
        Assert.Contains($"resuming: 3 of {begin.ChunkCount} chunks are already on the device", resumed.Out);
        Assert.Equal(idB, await ServingModelAsync());

        var nobody = await Task.Run(() => TrainerRunner.Run("deploy", work.File("b.pcb"), "--broker", broker, "--device", "no-such-device", "--timeout", "2"));
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("no answer from edgepatchcore/no-such-device", nobody.Error);
        await host.StopAsync();
    }
}
