using Microsoft.Extensions.Options;
using EdgePatchCore.Deployment;
namespace EdgePatchCore.Agent.Configuration;

/// <summary>
/// Checks the configuration at start-up and for `agent check-config`: one plain sentence per problem. Features that
/// register themselves check their own options too (<see cref="IValidateOptions{TOptions}"/> in their Add... module,
/// e.g. Sparkplug); the host runs all of them.
/// </summary>
public static class OptionsValidator
{
    public static List<string> Validate(AgentOptions o)
    {
        var problems = new List<string>();
        void Check(bool ok, string problem) { if (!ok) problems.Add(problem); }

        Check(!string.IsNullOrWhiteSpace(o.DeviceId) && !HasTopicWildcards(o.DeviceId),
            "Agent:DeviceId must be set and must not contain '+', '#' or '/'");
        Check(string.IsNullOrWhiteSpace(o.TopicPrefix) || !HasTopicWildcards(o.TopicPrefix.Replace("/", "")),
            "Agent:TopicPrefix must not contain '+' or '#'");
        problems.AddRange(o.UnreadableSettings);
        Check(o.AllModels.Count > 0, "no model configured: set Agent:Artifact (or Agent:Models:0:Artifact) to a .pcb file");
        for (int i = 0; i < o.Models.Count; i++)
            Check(!string.IsNullOrWhiteSpace(o.Models[i].Artifact), $"Agent:Models:{i}:Artifact is empty");
        foreach (var model in o.AllModels)
            Check(model.Product is null || DeployProtocol.IsValidName(model.Product),
                $"the product of {model.Artifact} must be a short name without '/'");
        Check(o.AllModels.Select(m => m.Artifact).Where(a => !string.IsNullOrWhiteSpace(a)).Select(Path.GetFullPath).Distinct().Count()
              == o.AllModels.Count(m => !string.IsNullOrWhiteSpace(m.Artifact)), "two models are configured with the same artifact file");
        var d = o.Deployment;
        Check(d.MaxArtifactBytes is >= 1 and <= Artifacts.ArtifactFile.MaxBytes,
            $"Agent:Deployment:MaxArtifactBytes must be 1..{Artifacts.ArtifactFile.MaxBytes}");
        Check(d.TransferExpiryMinutes is >= 0.05 and <= 10_080, "Agent:Deployment:TransferExpiryMinutes must be 0.05..10080 (3 s to a week)");
        foreach (var model in o.AllModels)
            Check(model.Threshold is null || (model.Threshold > 0 && double.IsFinite(model.Threshold.Value)),
                $"threshold for {model.Artifact} must be a positive number");
        Check(o.ArtifactPollSeconds is >= 0.05 and <= 3600, "Agent:ArtifactPollSeconds must be 0.05..3600");
        Check(o.ReviewRate is >= 0 and < 0.5, "Agent:ReviewRate must be 0 (no REVIEW band) or a false-reject rate below 0.5, e.g. 0.05");
        Check(!(o.RequireSignature == true && o.TrustedKeys.Count == 0), "Agent:RequireSignature is on but no Agent:TrustedKeys are configured");
        foreach (var key in o.TrustedKeys)
        {
            try { using var k = Artifacts.SigningKeys.LoadPublic(key); }
            catch (Artifacts.ArtifactException e) { problems.Add($"Agent:TrustedKeys: {e.Message}"); }
        }

        var b = o.Broker;
        if (!string.IsNullOrWhiteSpace(b.Host))
        {
            Check(b.Port is > 0 and < 65536, $"Agent:Broker:Port {b.Port} is not a TCP port");
            Check(b.KeepAliveSeconds is >= 1 and <= 65535, "Agent:Broker:KeepAliveSeconds must be 1..65535");
            Check(b.ReconnectMinMilliseconds is >= 1 and <= 3_600_000 && b.ReconnectMaxMilliseconds is >= 1 and <= 3_600_000
                  && b.ReconnectMaxMilliseconds >= b.ReconnectMinMilliseconds,
                  "Agent:Broker:ReconnectMinMilliseconds and :ReconnectMaxMilliseconds must be 1..3600000, the first not above the second");
            Check(b.SessionExpirySeconds <= 30 * 86_400, "Agent:Broker:SessionExpirySeconds must be 0..2592000 (30 days)");
            Check(string.IsNullOrEmpty(b.PasswordFile) || File.Exists(b.PasswordFile), $"Agent:Broker:PasswordFile {b.PasswordFile} does not exist");
            Check(string.IsNullOrEmpty(b.PasswordFile) || string.IsNullOrEmpty(b.Password), "set Agent:Broker:PasswordFile or :Password, not both");
            Check(b.Tls || (string.IsNullOrEmpty(b.CaFile) && string.IsNullOrEmpty(b.ClientCertificateFile)),
                  "Agent:Broker:CaFile and :ClientCertificateFile need Agent:Broker:Tls = true");
            Check(string.IsNullOrEmpty(b.CaFile) || File.Exists(b.CaFile), $"Agent:Broker:CaFile {b.CaFile} does not exist");
            Check(string.IsNullOrEmpty(b.ClientCertificateFile) == string.IsNullOrEmpty(b.ClientKeyFile),
                  "Agent:Broker:ClientCertificateFile and :ClientKeyFile go together");
            foreach (var file in new[] { b.ClientCertificateFile, b.ClientKeyFile })
                Check(string.IsNullOrEmpty(file) || File.Exists(file), $"Agent:Broker: {file} does not exist");
        }


        Check(o.Pipeline.QueueCapacity is >= 1 and <= 10_000, "Agent:Pipeline:QueueCapacity must be 1..10000");
        Check(o.Pipeline.MaxBatch is >= 1 and <= 64, "Agent:Pipeline:MaxBatch must be 1..64");
        Check(o.Pipeline.MaxBatchBytes is >= 1 << 20 and <= 1L << 40, "Agent:Pipeline:MaxBatchBytes must be 1 MiB..1 TiB");
        Check(o.Pipeline.MemoryMaxBytes is >= 0 and <= 1L << 44,
            "Agent:Pipeline:MemoryMaxBytes must be 0 (the service's MemoryMax) or at most 16 TiB");
        if (MemoryLimit.Check(o, MemoryLimit.Of(o.Pipeline)) is { } memory) problems.Add(memory);
        Check(o.Publishing.MetricsIntervalSeconds is >= 0.1 and <= 86_400, "Agent:Publishing:MetricsIntervalSeconds must be 0.1..86400");
        Check(o.Publishing.OutboxMaxMessages is >= 1 and <= 100_000_000, "Agent:Publishing:OutboxMaxMessages must be 1..100000000");
        Check(o.Publishing.OutboxMaxBytes is >= 1 << 20 and <= 1L << 40, "Agent:Publishing:OutboxMaxBytes must be 1 MiB..1 TiB");
        Check(o.Publishing.MaxPublishAttempts is >= 1 and <= 1000, "Agent:Publishing:MaxPublishAttempts must be 1..1000");
        Check(o.Publishing.RepublishWindowSeconds is >= 0 and <= 3600, "Agent:Publishing:RepublishWindowSeconds must be 0..3600");
        var l = o.Limits;
        Check(l.MaxFrameBytes is >= 1 and <= 1L << 30, "Agent:Limits:MaxFrameBytes must be 1..1073741824 (1 GiB)");
        Check(l.ResolvedMaxPixels is >= 64 and <= 1L << 30, "Agent:Limits:MaxPixels must be 64..1073741824");
        Check(l.MaxWidth is >= 8 and <= 65_535 && l.MaxHeight is >= 8 and <= 65_535, "Agent:Limits: MaxWidth and MaxHeight must be 8..65535");
        Check(l.MaxAspectRatio is >= 1 and <= 1000, "Agent:Limits:MaxAspectRatio must be 1..1000");
        Check(l.MaxJpegScans is >= 1 and <= 1000, "Agent:Limits:MaxJpegScans must be 1..1000");
        Check(l.DecodeTimeoutMilliseconds is >= 10 and <= 600_000, "Agent:Limits:DecodeTimeoutMilliseconds must be 10..600000");
        return problems;
    }


    private static bool HasTopicWildcards(string s) => s.IndexOfAny(['+', '#', '/']) >= 0;
}
