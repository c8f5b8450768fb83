using System.Security.Cryptography;
using System.Text.Json;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Deployment;
using EdgePatchCore.Tests.Artifacts;
using EdgePatchCore.Tests.Cli;
using Microsoft.Extensions.Hosting;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// `trainer deploy` to a running agent over the real broker: who may change the model (trusted keys,
/// the product's slot), what only moves forward (release versions) and what a refused deploy leaves behind.
/// </summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class DeploymentTests(AgentFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>An agent on the fixture's broker serving <paramref name="served"/> from a slot file, with frames on MQTT.</summary>
    private sealed class Line : IAsyncDisposable
    {
        private readonly AgentFixture _fixture;
        private int _frame;
        public required string Device { get; init; }
        public required string ServedPath { get; init; }
        public required Dictionary<string, string?> Config { get; init; }
        public required MqttProbe Probe { get; init; }
        public CapturedLogs Logs { get; } = new();
        public IHost? Host { get; private set; }
        public string Broker => $"127.0.0.1:{_fixture.Broker.Port}";

        public Line(AgentFixture fixture) => _fixture = fixture;

        public async Task StartAsync()
        {
            Host = await AgentFixture.StartAgentAsync(Config, Logs);
            Assert.True(await Probe.WaitForAsync(p => p.Messages("/status").Count > 0, Patience));
        }

        public async Task StopAsync()
        {
            if (Host is null) return;
            await Host.StopAsync();
            Host.Dispose();
            Host = null;
        }

        /// <summary>Scores one frame and returns the verdict's model id (null when no model served it) and product.</summary>
        public async Task<(string? Model, string? Product)> ServingAsync()
        {
            string id = $"{Device}-{_frame++}";
            await Probe.PublishAsync($"{Device}/camera", File.ReadAllBytes(_fixture.Pngs[0]), ("frameId", id));
            Assert.True(await Probe.WaitForAsync(p => p.Verdicts().Any(v => v.FrameId == id), Patience), $"no verdict for {id}");
            var verdict = Probe.Verdicts().Single(v => v.FrameId == id);
            return (verdict.Model?.Id, verdict.Product);
        }

        public Task<RunResult> DeployAsync(params string[] args) =>
            Task.Run(() => TrainerRunner.Run(["deploy", .. args, "--broker", Broker, "--device", Device, "--timeout", "60"]));

        public async ValueTask DisposeAsync()
        {
            await StopAsync();
            await Probe.DisposeAsync();
        }
    }

    private async Task<Line> StartLineAsync(TempFolder work, string device, string servedSource, bool trusted, long version = 1,
                                            Action<Dictionary<string, string?>>? configure = null)
    {
        Directory.CreateDirectory(work.File("models"));
        string served = work.File("models/gasket.pcb");
        if (trusted) fixture.Signed(servedSource, served, version);
        else File.Copy(servedSource, served, overwrite: true);
        var config = fixture.Config(device, served, work.File("state"));
        if (trusted) config["Agent:TrustedKeys:0"] = fixture.PlantPublicKey;
        config["Agent:Sources:Mqtt:Topic"] = $"{device}/camera";
        configure?.Invoke(config);
        var probe = new MqttProbe(fixture.Broker.Port, $"edgepatchcore/{device}/#");
        await probe.StartAsync();
        var line = new Line(fixture) { Device = device, ServedPath = served, Config = config, Probe = probe };
        await line.StartAsync();
        return line;
    }

    private static string Id(string path) => ArtifactFile.Read(path).Id;

    [Fact]
    public async Task Without_trusted_keys_deployment_is_off_unless_unsigned_models_are_explicitly_allowed()
    {
        using var work = new TempFolder();
        await using (var line = await StartLineAsync(work, "ota-off", fixture.ModelA, trusted: false))
        {
            var refused = await line.DeployAsync(fixture.ModelB);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("over-the-air deployment is off on this device: it has no Agent:TrustedKeys", refused.Error);
            refused.AssertNoStackTrace();
            Assert.Equal(Id(fixture.ModelA), (await line.ServingAsync()).Model);
            Assert.Equal(File.ReadAllBytes(fixture.ModelA), File.ReadAllBytes(line.ServedPath));
            Assert.True(line.Logs.Any("Over-the-air deployment is off"), string.Join("\n", line.Logs.Lines));
        }

        using var lab = new TempFolder();
        await using (var line = await StartLineAsync(lab, "ota-lab", fixture.ModelA, trusted: false,
                                                     configure: c => c["Agent:Deployment:AllowUnsigned"] = "true"))
        {
            var deployed = await line.DeployAsync(fixture.ModelB);
            Assert.True(deployed.ExitCode == 0, deployed.Out + deployed.Error);
            Assert.Equal(Id(fixture.ModelB), (await line.ServingAsync()).Model);
            Assert.True(line.Logs.Any("UNSIGNED models are accepted over the air"), string.Join("\n", line.Logs.Lines));
        }
    }

    [Fact]
    public async Task A_model_for_another_product_is_refused_unless_the_deploy_names_the_slot_it_replaces()
    {
        using var work = new TempFolder();
        CraftedArtifacts.ForProduct(fixture.ModelB, work.File("bottle-unsigned.pcb"), "bottle");
        string bottle = work.File("bottle.pcb");
        fixture.Signed(work.File("bottle-unsigned.pcb"), bottle, version: 2);
        await using var line = await StartLineAsync(work, "ota-product", fixture.ModelA, trusted: true);

        var refused = await line.DeployAsync(bottle);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("no slot for product 'bottle' (slots: gasket)", refused.Error);
        Assert.Contains("--slot", refused.Error);
        Assert.Equal("gasket", (await line.ServingAsync()).Product);

        var changeover = await line.DeployAsync(bottle, "--slot", "gasket");
        Assert.True(changeover.ExitCode == 0, changeover.Out + changeover.Error);
        Assert.Contains("(release 2)", changeover.Out);
        var (model, product) = await line.ServingAsync();
        Assert.Equal(("bottle", Id(bottle)), (product, model));
    }

    [Fact]
    public async Task Signed_releases_only_move_forward_and_a_signed_rollback_is_the_one_way_back()
    {
        using var work = new TempFolder();
        string a10 = work.File("a10.pcb"), b20 = work.File("b20.pcb");
        string idA = fixture.Signed(fixture.ModelA, a10, version: 10), idB = fixture.Signed(fixture.ModelB, b20, version: 20);
        await using var line = await StartLineAsync(work, "ota-versions", fixture.ModelA, trusted: true, version: 10);
        Assert.Equal(idA, (await line.ServingAsync()).Model);

        var forward = await line.DeployAsync(b20);
        Assert.True(forward.ExitCode == 0, forward.Out + forward.Error);
        Assert.Equal(idB, (await line.ServingAsync()).Model);

        async Task Refused(string file, string reason)
        {
            var r = await line.DeployAsync(file);
            Assert.True(r.ExitCode == 1, $"{file} was not refused: {r.Out}");
            Assert.Contains(reason, r.Error);
            r.AssertNoStackTrace();
            Assert.Equal(idB, (await line.ServingAsync()).Model);
        }
        await Refused(a10, "release 10 is older than release 20 already accepted for gasket"); // replay of an old signed model
        fixture.Signed(fixture.ModelA, work.File("a20.pcb"), version: 20);
        await Refused(work.File("a20.pcb"), "release 20 of gasket was already accepted for a different model");
        fixture.Signed(fixture.ModelA, work.File("expired.pcb"), version: 30, validFor: TimeSpan.FromDays(-1));
        await Refused(work.File("expired.pcb"), "release 30 of gasket expired on");
        var (_, strangerPub, _) = SigningKeys.Generate(work.File("stranger.pem"));
        File.Copy(fixture.ModelA, work.File("stranger.pcb"));
        using (var k = SigningKeys.LoadPrivate(work.File("stranger.pem"))) ArtifactFile.Sign(work.File("stranger.pcb"), k, new ReleaseOptions { Version = 99 });
        await Refused(work.File("stranger.pcb"), "not among the trusted keys");
        SigningTests.TamperKeepingSignature(b20, work.File("tampered.pcb"));
        await Refused(work.File("tampered.pcb"), "does not verify");

        // Rollback: refused unless signed by a trusted key and naming the version kept on the device.
        var unsigned = await line.DeployAsync("--rollback");
        Assert.Equal(1, unsigned.ExitCode);
        Assert.Contains("a rollback must be signed by a trusted key", unsigned.Error);
        var wrongVersion = await line.DeployAsync("--rollback", "--sign", fixture.PlantKey, "--to-version", "11");
        Assert.Equal(1, wrongVersion.ExitCode);
        Assert.Contains("the previous model on this device is release 10, but the rollback names release 11", wrongVersion.Error);
        var strangerRollback = await line.DeployAsync("--rollback", "--sign", work.File("stranger.pem"), "--to-version", "10");
        Assert.Contains("not among the trusted keys", strangerRollback.Error);
        int requestsBefore = line.Probe.Messages("/deploy/request").Count;
        var rollback = await line.DeployAsync("--rollback", "--sign", fixture.PlantKey, "--to-version", "10");
        Assert.True(rollback.ExitCode == 0, rollback.Out + rollback.Error);
        Assert.Contains($"rolled back: model {idA}", rollback.Out);
        Assert.Equal(idA, (await line.ServingAsync()).Model);

        // Replaying the recorded rollback request is refused (its nonce is spent), and so is the release it withdrew.
        var recorded = line.Probe.Messages("/deploy/request").Skip(requestsBefore).Single();
        var replayed = System.Text.Json.Nodes.JsonNode.Parse(recorded.Payload)!;
        string transfer = replayed["transferId"]!.GetValue<string>();
        replayed["transferId"] = transfer + "0"; // the same signed authorisation in a new request
        await line.Probe.PublishAsync(recorded.Topic, System.Text.Encoding.UTF8.GetBytes(replayed.ToJsonString()),
                                      (DeployProtocol.TypeProperty, DeployProtocol.Rollback), (DeployProtocol.TransferProperty, transfer + "0"));
        Assert.True(await line.Probe.WaitForAsync(p => p.Messages("/deploy/status").Any(m => m.Json.GetProperty("transferId").GetString() == transfer + "0"), Patience));
        var replay = line.Probe.Messages("/deploy/status").Last(m => m.Json.GetProperty("transferId").GetString() == transfer + "0").Json;
        Assert.Contains("already used", replay.GetProperty("reason").GetString());
        Assert.Equal(idA, (await line.ServingAsync()).Model);
        var withdrawn = await line.DeployAsync(b20);
        Assert.Contains("release 20 of gasket was withdrawn by a rollback", withdrawn.Error);
        string b40 = work.File("b40.pcb");
        fixture.Signed(fixture.ModelB, b40, version: 40); // the fixed model, released anew
        var released = await line.DeployAsync(b40);
        Assert.True(released.ExitCode == 0, released.Out + released.Error);
        Assert.Equal(idB, (await line.ServingAsync()).Model);

        // The ledger survives a restart: an older signed file put in place by hand is refused at start-up.
        await line.StopAsync();
        File.Copy(a10, line.ServedPath, overwrite: true);
        await line.StartAsync();
        var (model, _) = await line.ServingAsync();
        Assert.Null(model);
        Assert.Contains(line.Probe.Messages("/event").Select(m => m.Json),
                        e => e.GetProperty("type").GetString() == "model-refused" && e.GetProperty("message").GetString()!.Contains("older than release 40"));
    }

    [Fact]
    public async Task A_deploy_that_cannot_be_built_and_warmed_up_leaves_the_served_model_and_its_file_in_place()
    {
        using var work = new TempFolder();
        CraftedArtifacts.WrongBackboneDimensions(fixture.ModelB, work.File("broken-unsigned.pcb"));
        string broken = work.File("broken.pcb");
        fixture.Signed(work.File("broken-unsigned.pcb"), broken, version: 5); // validly signed: only building it shows the fault
        await using var line = await StartLineAsync(work, "ota-warmup", fixture.ModelA, trusted: true);
        var servedBytes = File.ReadAllBytes(line.ServedPath);
        string idA = Id(line.ServedPath);

        var refused = await line.DeployAsync(broken);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("could not be built and warmed up: embedding has 1024 dimensions, expected 512", refused.Error);
        refused.AssertNoStackTrace();
        Assert.Equal(idA, (await line.ServingAsync()).Model);
        Assert.Equal(servedBytes, File.ReadAllBytes(line.ServedPath));
        await line.StopAsync();
        await line.StartAsync();
        Assert.Equal(idA, (await line.ServingAsync()).Model); // and after a restart
    }

    [Fact]
    public async Task Transfers_resume_are_bounded_one_per_slot_and_expire()
    {
        using var work = new TempFolder();
        await using var line = await StartLineAsync(work, "ota-transfer", fixture.ModelA, trusted: true, configure: c =>
        {
            c["Agent:Deployment:MaxArtifactBytes"] = (512L << 20).ToString();
            c["Agent:Deployment:TransferExpiryMinutes"] = "0.1";
        });
        string prefix = "edgepatchcore/ota-transfer", request = DeployProtocol.RequestTopic(prefix);
        async Task<JsonElement> BeginAsync(DeployBegin begin)
        {
            int before = line.Probe.Messages("/deploy/status").Count;
            await line.Probe.PublishAsync(request, JsonSerializer.SerializeToUtf8Bytes(begin, DeployProtocol.Json),
                (DeployProtocol.TypeProperty, DeployProtocol.Begin), (DeployProtocol.TransferProperty, begin.TransferId));
            Assert.True(await line.Probe.WaitForAsync(p => p.Messages("/deploy/status").Count > before, Patience), "no answer to begin");
            return line.Probe.Messages("/deploy/status")[before].Json;
        }
        string sha = new string('a', 64);
        var absurd = await BeginAsync(new DeployBegin("aaaaaaaaaaaaaaaa", "x.pcb", int.MaxValue, sha, 1, int.MaxValue, "gasket", ReleaseVersion: 2));
        Assert.Equal("refused", absurd.GetProperty("state").GetString());
        Assert.Contains("outside 1..536870912", absurd.GetProperty("reason").GetString());
        var smallChunks = await BeginAsync(new DeployBegin("aaaaaaaaaaaaaaab", "x.pcb", 1 << 20, sha, 1, 1 << 20, "gasket", ReleaseVersion: 2));
        Assert.Contains("chunk size 1 is outside 65536..4194304", smallChunks.GetProperty("reason").GetString());
        var wrapped = await BeginAsync(new DeployBegin("aaaaaaaaaaaaaaac", "x.pcb", (1L << 32) + 5, sha, 1 << 20, 5, "gasket", ReleaseVersion: 2));
        Assert.Contains("outside 1..536870912", wrapped.GetProperty("reason").GetString());

        // A large transfer: the answer lists 1,024 missing chunks and says how many there are.
        var large = new DeployBegin("bbbbbbbbbbbbbbbb", "big.pcb", 256L << 20, sha, 64 << 10, 4096, "gasket", ReleaseVersion: 2);
        var listed = await BeginAsync(large);
        Assert.Equal("receiving", listed.GetProperty("state").GetString());
        Assert.Equal(1024, listed.GetProperty("missing").GetArrayLength());
        Assert.Equal(4096, listed.GetProperty("missingCount").GetInt32());
        string transfers = work.File("state/deploy/transfers");
        Assert.True(Directory.Exists(Path.Combine(transfers, large.TransferId)));

        // An interrupted real transfer for the same slot replaces the large one; sending the file again resumes it.
        string b = work.File("b.pcb");
        fixture.Signed(fixture.ModelB, b, version: 2);
        var bytes = File.ReadAllBytes(b);
        string fileSha = DeployProtocol.Hex(SHA256.HashData(bytes));
        int chunk = 64 << 10;
        var begin = new DeployBegin(DeployProtocol.TransferIdOf(fileSha), "b.pcb", bytes.Length, fileSha, chunk, (bytes.Length + chunk - 1) / chunk, "gasket", ReleaseVersion: 2);
        await BeginAsync(begin);
        Assert.False(Directory.Exists(Path.Combine(transfers, large.TransferId)), "a second transfer for the slot did not replace the first");
        for (int i = 0; i < 3; i++)
        {
            var part = bytes.AsSpan(i * chunk, chunk).ToArray();
            await line.Probe.PublishAsync(request, part, (DeployProtocol.TypeProperty, DeployProtocol.Chunk), (DeployProtocol.TransferProperty, begin.TransferId),
                (DeployProtocol.IndexProperty, i.ToString()), (DeployProtocol.HashProperty, DeployProtocol.Hex(SHA256.HashData(part))));
        }
        Assert.True(SpinWait.SpinUntil(() => Directory.Exists(Path.Combine(transfers, begin.TransferId))
                                           && Directory.GetFiles(Path.Combine(transfers, begin.TransferId), "*.chunk").Length == 3, 10_000));
        var resumed = await line.DeployAsync(b, "--chunk-size", "64");
        Assert.True(resumed.ExitCode == 0, resumed.Out + resumed.Error);
        Assert.Contains($"resuming: 3 of {begin.ChunkCount} chunks are already on the device", resumed.Out);
        Assert.Equal(Id(b), (await line.ServingAsync()).Model);

        // A commit repeated after its answer (the trainer re-sends one that got no answer in time) gets the same answer.
        int answers = line.Probe.Messages("/deploy/status").Count;
        await line.Probe.PublishAsync(request, [], (DeployProtocol.TypeProperty, DeployProtocol.Commit), (DeployProtocol.TransferProperty, begin.TransferId));
        Assert.True(await line.Probe.WaitForAsync(p => p.Messages("/deploy/status").Count > answers, Patience), "no answer to a repeated commit");
        var repeated = line.Probe.Messages("/deploy/status")[answers].Json;
        Assert.Equal("deployed", repeated.GetProperty("state").GetString());
        Assert.Equal(Id(b), repeated.GetProperty("model").GetString());

        // A transfer that stops moving is deleted after Deployment:TransferExpiryMinutes (6 s here).
        var stale = new DeployBegin("cccccccccccccccc", "stale.pcb", 1 << 20, sha, 64 << 10, 16, "gasket", ReleaseVersion: 3);
        await BeginAsync(stale);
        Assert.True(Directory.Exists(Path.Combine(transfers, stale.TransferId)));
        Assert.True(SpinWait.SpinUntil(() => !Directory.Exists(Path.Combine(transfers, stale.TransferId)), 30_000), "the stale transfer was not expired");

        var nobody = await Task.Run(() => TrainerRunner.Run("deploy", b, "--broker", line.Broker, "--device", "no-such-device", "--timeout", "2"));
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("no answer from edgepatchcore/no-such-device", nobody.Error);
    }
}
