using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Trust;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Tests.Artifacts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using AgentModelStore = EdgePatchCore.Agent.ModelStore.ModelStore;
using EdgePatchCore.Messaging;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

/// <summary>The agent's model store: what loads, what is refused (and why), and that the old model keeps serving.</summary>
[Trait("Category", IntegrationTests.Category)]
[Collection("agent")]
public class ModelStoreTests(AgentFixture fixture)
{
    private sealed class Store : IDisposable
    {
        public required AgentModelStore Models { get; init; }
        public required Outbox Outbox { get; init; }
        public required AgentOptions Options { get; init; }
        public string? Serving() => Models.Snapshot().SingleOrDefault()?.Id;
        public bool Load() => Models.Load(Options.AllModels[0]);

        /// <summary>The events published so far (the outbox is drained).</summary>
        public List<string> Events()
        {
            var events = new List<string>();
            while (Outbox.Peek() is { } m) { events.Add(System.Text.Encoding.UTF8.GetString(m.Payload)); Outbox.Remove(m.Sequence); }
            return events;
        }

        public void Dispose() => Models.Dispose();
    }

    private static Store Open(TempFolder work, string served, params string[] trustedKeys)
    {
        var options = new AgentOptions { Artifact = served, Device = EdgePatchCore.Devices.DeviceKind.Cpu, TrustedKeys = [.. trustedKeys], StateDirectory = work.File("state") };
        var outbox = new Outbox(work.File("outbox"), 100, sync: false, NullLogger.Instance);
        var admission = new ModelAdmission(Microsoft.Extensions.Options.Options.Create(options), new ReleaseLedger(options.ResolvedStateDirectory));
        return new Store
        {
            Models = new AgentModelStore(Microsoft.Extensions.Options.Options.Create(options), admission, new AgentEvents(outbox, new TopicNames("t")),
                                         NullLogger<AgentModelStore>.Instance),
            Outbox = outbox, Options = options,
        };
    }

    [Fact]
    public void Signed_artifacts_load_and_unsigned_untrusted_or_tampered_ones_are_refused_while_the_old_model_serves()
    {
        using var work = new TempFolder();
        var (strangerKey, _, _) = SigningKeys.Generate(work.File("stranger.pem"));
        string served = work.File("served.pcb");
        using var store = Open(work, served, fixture.PlantPublicKey);

        string idA = fixture.Signed(fixture.ModelA, served, version: 1);
        Assert.True(store.Load());
        Assert.Equal(idA, store.Serving());
        var serving = store.Models.Acquire(null, out _)!;
        Assert.Equal(EdgePatchCore.Scoring.PatchSearchKind.Bounded, serving.Scorer.SearchKind); // the default
        serving.Release();

        File.Copy(fixture.ModelB, served, overwrite: true);
        Assert.False(store.Load());
        using (var k = SigningKeys.LoadPrivate(strangerKey)) ArtifactFile.Sign(served, k, new ReleaseOptions { Version = 2 });
        Assert.False(store.Load());
        fixture.Signed(fixture.ModelB, served, version: 2);
        SigningTests.TamperKeepingSignature(served, served);
        Assert.False(store.Load());
        Assert.Equal(idA, store.Serving()); // every refusal left model A in service

        var refusals = store.Events().Where(e => e.Contains("model-refused")).ToList();
        Assert.Equal(3, refusals.Count);
        Assert.Contains("not signed", refusals[0]);
        Assert.Contains("not among the trusted keys", refusals[1]);
        Assert.Contains("does not verify", refusals[2]);

        string idB = fixture.Signed(fixture.ModelB, served, version: 2);
        Assert.True(store.Load());
        Assert.Equal(idB, store.Serving());
    }

    [Fact]
    public void A_model_that_fails_to_build_or_is_crafted_is_refused_with_a_reason_and_never_escapes_the_store()
    {
        using var work = new TempFolder();
        string served = work.File("served.pcb");
        using var store = Open(work, served);
        File.Copy(fixture.ModelA, served);
        Assert.True(store.Load());
        string idA = store.Serving()!;

        var model = ArtifactFile.Read(fixture.ModelA).Content;
        var cases = new (string Name, Action Write, string Reason)[]
        {
            ("backbone producing other dimensions", () => CraftedArtifacts.WrongBackboneDimensions(fixture.ModelA, served),
             "could not be built and warmed up: embedding has 1024 dimensions, expected 512"),
            ("b of 4,000,000 on a one-row bank", () => CraftedArtifacts.WriteRaw(served, model with
             {
                 Bank = model.Bank with { Rows = 1, Data = model.Bank.Data[..(model.Bank.Columns * 4)], NeighbourCount = 4_000_000, Neighbours = new byte[16_000_000] },
                 Scoring = model.Scoring with { NeighbourCount = 4_000_000 },
             }), "neighbour table has b = 4000000 for 1 rows"),
            ("no bank data", () => CraftedArtifacts.WriteRaw(served, model with { Bank = model.Bank with { Data = null! } }), "bank data missing"),
            ("a NaN threshold", () => CraftedArtifacts.WriteRaw(served, model with { Scoring = model.Scoring with { Threshold = float.NaN } }),
             "threshold NaN is not a positive number"),
            ("an infinite bank value", () =>
            {
                var data = (byte[])model.Bank.Data.Clone();
                BitConverter.TryWriteBytes(data.AsSpan(8), float.PositiveInfinity);
                CraftedArtifacts.WriteRaw(served, model with { Bank = model.Bank with { Data = data } });
            }, "bank holds values that are not finite numbers"),
            ("garbage instead of a graph", () => CraftedArtifacts.WriteRaw(served, model with { Backbone = model.Backbone with { Onnx = [1, 2, 3, 4] } }),
             "could not be built and warmed up"),
        };
        foreach (var (name, write, reason) in cases)
        {
            write();
            Assert.False(store.Load(), name);
            Assert.Equal(idA, store.Serving());
            Assert.Contains(reason, store.Models.LastRefusal(served) ?? "(none)");
        }
        Assert.Equal(cases.Length, store.Events().Count(e => e.Contains("model-refused")));
    }
}
