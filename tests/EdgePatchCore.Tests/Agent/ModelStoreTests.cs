using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Publishing;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Tests.Artifacts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using AgentModelStore = EdgePatchCore.Agent.ModelStore.ModelStore;

namespace EdgePatchCore.Tests.Agent;

/// <summary>The agent's model store with TrustedKeys: what loads, what is refused, and that the old model keeps serving.</summary>
[Collection("agent")]
public class ModelStoreTests(AgentFixture fixture)
{
    [Fact]
    public void Signed_artifacts_load_and_unsigned_untrusted_or_tampered_ones_are_refused_while_the_old_model_serves()
    {
        using var work = new TempFolder();
        var (trustedKey, trustedPub, _) = SigningKeys.Generate(work.File("plant.pem"));
        var (strangerKey, _, _) = SigningKeys.Generate(work.File("stranger.pem"));
        string served = work.File("served.pcb");
        var options = new AgentOptions { Artifact = served, Device = "cpu", TrustedKeys = [trustedPub] };
        var outbox = new Outbox(work.File("outbox"), 100, sync: false, NullLogger.Instance);
        using var store = new AgentModelStore(Options.Create(options), new AgentEvents(outbox, new TopicNames("t")), NullLogger<AgentModelStore>.Instance);

        string Deploy(string source, string? key)
        {
            File.Copy(source, served, overwrite: true);
            if (key is not null) { using var k = SigningKeys.LoadPrivate(key); ArtifactFile.Sign(served, k); }
            return ArtifactFile.Read(served).Id;
        }
        string? Serving() => store.Snapshot().SingleOrDefault()?.Id;

        string idA = Deploy(fixture.ModelA, trustedKey);
        Assert.True(store.Load(options.AllModels[0]));
        Assert.Equal(idA, Serving());

        Deploy(fixture.ModelB, key: null);
        Assert.False(store.Load(options.AllModels[0]));
        Deploy(fixture.ModelB, strangerKey);
        Assert.False(store.Load(options.AllModels[0]));
        Deploy(fixture.ModelB, trustedKey);
        SigningTests.TamperKeepingSignature(served, served);
        Assert.False(store.Load(options.AllModels[0]));
        Assert.Equal(idA, Serving()); // every refusal left model A in service

        var events = new List<string>();
        while (outbox.Peek() is { } m) { events.Add(System.Text.Encoding.UTF8.GetString(m.Payload)); outbox.Remove(m.Sequence); }
        var refusals = events.Where(e => e.Contains("model-refused")).ToList();
        Assert.Equal(3, refusals.Count);
        Assert.Contains("not signed", refusals[0]);
        Assert.Contains("not among the trusted keys", refusals[1]);
        Assert.Contains("does not verify", refusals[2]);

        string idB = Deploy(fixture.ModelB, trustedKey);
        Assert.True(store.Load(options.AllModels[0]));
        Assert.Equal(idB, Serving());
    }
}
