using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Publishing;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Deployment;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Packets;

namespace EdgePatchCore.Agent.Deployment;

/// <summary>
/// Receives artifacts over MQTT from `trainer deploy` (see <see cref="DeployProtocol"/>): stores verified
/// chunks under {state}/deploy/{transfer}, so an interrupted transfer resumes; on commit checks the
/// whole file's hash and the artifact itself (checksum, signature rules), keeps the served file as
/// {state}/deploy/previous/NAME, renames the new one over the served path and waits until the model
/// store serves it. Answers on {prefix}/deploy/status. `rollback` swaps the previous file back in.
/// </summary>
public sealed class DeployService : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly ModelStore.ModelStore _models;
    private readonly Outbox _outbox;
    private readonly string _statusTopic;
    private readonly string _root;
    private readonly ILogger<DeployService> _logger;
    private readonly Channel<(string Type, Dictionary<string, string> Properties, byte[] Payload)> _requests =
        Channel.CreateBounded<(string, Dictionary<string, string>, byte[])>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.Wait });

    public DeployService(IOptions<AgentOptions> options, ModelStore.ModelStore models, Outbox outbox, TopicNames topics,
                         BrokerConnection broker, ILogger<DeployService> logger)
    {
        _options = options.Value;
        _models = models;
        _outbox = outbox;
        _logger = logger;
        _statusTopic = DeployProtocol.StatusTopic(topics.Prefix);
        _root = Path.Combine(_options.ResolvedStateDirectory, "deploy");
        broker.Subscribe(DeployProtocol.RequestTopic(topics.Prefix), OnRequest);
    }

    private async Task OnRequest(MqttApplicationMessageReceivedEventArgs e)
    {
        var properties = (e.ApplicationMessage.UserProperties ?? []).GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.First().ReadValueAsString());
        string type = properties.GetValueOrDefault(DeployProtocol.TypeProperty, "");
        // Work happens off the MQTT receive loop (a commit waits for the model to load).
        await _requests.Writer.WriteAsync((type, properties, System.Buffers.BuffersExtensions.ToArray(e.ApplicationMessage.Payload)));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (type, properties, payload) in _requests.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                switch (type)
                {
                    case DeployProtocol.Begin: Begin(JsonSerializer.Deserialize<DeployBegin>(payload, DeployProtocol.Json)!); break;
                    case DeployProtocol.Chunk: Chunk(properties, payload); break;
                    case DeployProtocol.Commit: await CommitAsync(properties.GetValueOrDefault(DeployProtocol.TransferProperty, ""), stoppingToken); break;
                    case DeployProtocol.Rollback: await RollbackAsync(JsonSerializer.Deserialize<DeployRollback>(payload, DeployProtocol.Json)!, stoppingToken); break;
                    default: _logger.LogWarning("Ignoring a deploy request of unknown type '{Type}'", type); break;
                }
            }
            catch (Exception ex) when (ex is JsonException or IOException or UnauthorizedAccessException or ArgumentException or NullReferenceException)
            {
                string transfer = properties.GetValueOrDefault(DeployProtocol.TransferProperty, "?");
                _logger.LogError("Deploy request {Type} ({Transfer}) failed: {Reason}", type, transfer, ex.Message);
                Reply(new DeployStatus(transfer, DeployProtocol.Refused, Reason: $"{type} failed: {ex.Message}"));
            }
        }
    }

    private void Begin(DeployBegin begin)
    {
        if (begin.Validate() is { } problem)
        {
            Reply(new DeployStatus(begin.TransferId, DeployProtocol.Refused, Reason: problem));
            return;
        }
        string dir = TransferDirectory(begin.TransferId);
        string meta = Path.Combine(dir, "begin.json");
        if (File.Exists(meta) && JsonSerializer.Deserialize<DeployBegin>(File.ReadAllBytes(meta), DeployProtocol.Json) != begin)
            Directory.Delete(dir, recursive: true); // same id, different layout: start over
        Directory.CreateDirectory(dir);
        WriteAtomically(meta, JsonSerializer.SerializeToUtf8Bytes(begin, DeployProtocol.Json));
        var missing = Missing(begin, dir);
        _logger.LogInformation("Deploy {Transfer}: receiving {File} ({Size} bytes, {Chunks} chunks, {Missing} missing)",
            begin.TransferId, begin.FileName, begin.Size, begin.ChunkCount, missing.Length);
        Reply(new DeployStatus(begin.TransferId, DeployProtocol.Receiving, Missing: missing));
    }

    private void Chunk(Dictionary<string, string> properties, byte[] payload)
    {
        string transfer = properties.GetValueOrDefault(DeployProtocol.TransferProperty, "");
        var begin = ReadBegin(transfer);
        if (begin is null || !int.TryParse(properties.GetValueOrDefault(DeployProtocol.IndexProperty), out int index)
            || index < 0 || index >= begin.ChunkCount)
        {
            _logger.LogWarning("Deploy: chunk for an unknown transfer or index ({Transfer})", transfer);
            return;
        }
        string hash = DeployProtocol.Hex(SHA256.HashData(payload));
        if (payload.Length != begin.ChunkLength(index) || hash != properties.GetValueOrDefault(DeployProtocol.HashProperty))
        {
            _logger.LogWarning("Deploy {Transfer}: chunk {Index} damaged in transit; it will be asked for again", transfer, index);
            return;
        }
        WriteAtomically(ChunkPath(TransferDirectory(transfer), index), payload);
    }

    private async Task CommitAsync(string transfer, CancellationToken cancel)
    {
        var begin = ReadBegin(transfer);
        if (begin is null)
        {
            Reply(new DeployStatus(transfer, DeployProtocol.Refused, Reason: "unknown transfer: send it again"));
            return;
        }
        string dir = TransferDirectory(transfer);
        var missing = Missing(begin, dir);
        if (missing.Length > 0)
        {
            Reply(new DeployStatus(transfer, DeployProtocol.Receiving, Missing: missing));
            return;
        }
        string assembled = Path.Combine(dir, "artifact.pcb");
        using (var output = File.Create(assembled))
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            for (int i = 0; i < begin.ChunkCount; i++)
            {
                var bytes = File.ReadAllBytes(ChunkPath(dir, i));
                sha.AppendData(bytes);
                output.Write(bytes);
            }
            if (DeployProtocol.Hex(sha.GetHashAndReset()) != begin.Sha256)
            {
                output.Close();
                Directory.Delete(dir, recursive: true);
                Refuse(transfer, "whole-file SHA-256 mismatch: the transfer was corrupted; send it again");
                return;
            }
        }

        Artifact artifact;
        try { artifact = _models.Verify(assembled); }
        catch (ArtifactException e)
        {
            Directory.Delete(dir, recursive: true);
            Refuse(transfer, e.Message.Replace(assembled, begin.FileName));
            return;
        }
        string? target = TargetFor(artifact.Content.Manifest.Product, out string? why);
        if (target is null)
        {
            Directory.Delete(dir, recursive: true);
            Refuse(transfer, why!);
            return;
        }

        string previous = PreviousPath(target);
        Directory.CreateDirectory(Path.GetDirectoryName(previous)!);
        if (File.Exists(target)) File.Copy(target, previous, overwrite: true);
        Install(assembled, target);
        Directory.Delete(dir, recursive: true);
        if (await WaitUntilServedAsync(target, artifact.Id, cancel))
        {
            _logger.LogInformation("Deploy {Transfer}: model {Model} deployed to {Target}", transfer, artifact.Id, target);
            Reply(new DeployStatus(transfer, DeployProtocol.Deployed, Model: artifact.Id));
        }
        else
        {
            string reason = _models.LastRefusal(target) ?? "it was not loaded in time";
            if (File.Exists(previous)) Install(previous, target, keepSource: true); // back to what worked
            Refuse(transfer, $"the agent could not serve model {artifact.Id}: {reason}");
        }
    }

    private async Task RollbackAsync(DeployRollback request, CancellationToken cancel)
    {
        string? target = TargetFor(request.Product, out string? why);
        if (target is null)
        {
            Refuse(request.TransferId, why!);
            return;
        }
        string previous = PreviousPath(target);
        if (!File.Exists(previous))
        {
            Refuse(request.TransferId, "no previous artifact is kept on this device");
            return;
        }
        Artifact artifact;
        try { artifact = _models.Verify(previous); }
        catch (ArtifactException e)
        {
            Refuse(request.TransferId, $"the previous artifact is no longer acceptable: {e.Message}");
            return;
        }
        // Swap, so that a second rollback returns to the newer model.
        string swap = previous + ".swap";
        if (File.Exists(target)) File.Copy(target, swap, overwrite: true);
        Install(previous, target, keepSource: true);
        if (File.Exists(swap)) File.Move(swap, previous, overwrite: true);
        if (await WaitUntilServedAsync(target, artifact.Id, cancel))
        {
            _logger.LogInformation("Rollback: model {Model} serving again from {Target}", artifact.Id, target);
            Reply(new DeployStatus(request.TransferId, DeployProtocol.RolledBack, Model: artifact.Id));
        }
        else Refuse(request.TransferId, $"the previous model {artifact.Id} was not loaded: {_models.LastRefusal(target) ?? "time-out"}");
    }

    /// <summary>The configured artifact path a product's model is served from.</summary>
    private string? TargetFor(string? product, out string? why)
    {
        var configured = _options.AllModels.Select(m => Path.GetFullPath(m.Artifact)).ToList();
        var served = _models.Snapshot();
        var match = served.FirstOrDefault(m => string.Equals(m.Product, product, StringComparison.OrdinalIgnoreCase));
        why = null;
        if (match is not null) return match.Path;
        if (configured.Count == 1) return configured[0];
        why = $"no configured model for product '{product}' on this device";
        return null;
    }

    /// <summary>Copies next to the target and renames over it, so the model store never sees a half-written file.</summary>
    private static void Install(string source, string target, bool keepSource = false)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        string temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.deploy.tmp");
        File.Copy(source, temp, overwrite: true);
        File.Move(temp, target, overwrite: true);
        if (!keepSource) File.Delete(source);
    }

    private async Task<bool> WaitUntilServedAsync(string target, string id, CancellationToken cancel)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Max(30, 10 * _options.ArtifactPollSeconds) + 60);
        while (DateTime.UtcNow < deadline)
        {
            if (_models.Snapshot().Any(m => m.Path == target && m.Id == id)) return true;
            await Task.Delay(100, cancel);
        }
        return false;
    }

    private void Refuse(string transfer, string reason)
    {
        _logger.LogError("Deploy {Transfer} refused: {Reason}", transfer, reason);
        Reply(new DeployStatus(transfer, DeployProtocol.Refused, Reason: reason));
    }

    private void Reply(DeployStatus status) => _outbox.Append(_statusTopic, JsonSerializer.SerializeToUtf8Bytes(status, DeployProtocol.Json));

    private DeployBegin? ReadBegin(string transfer)
    {
        if (!DeployProtocol.IsValidTransferId(transfer)) return null;
        string meta = Path.Combine(TransferDirectory(transfer), "begin.json");
        return File.Exists(meta) ? JsonSerializer.Deserialize<DeployBegin>(File.ReadAllBytes(meta), DeployProtocol.Json) : null;
    }

    private static int[] Missing(DeployBegin begin, string dir) =>
        Enumerable.Range(0, begin.ChunkCount).Where(i => !File.Exists(ChunkPath(dir, i))).ToArray();

    private string TransferDirectory(string transfer) => Path.Combine(_root, "transfers", transfer);
    private static string ChunkPath(string dir, int index) => Path.Combine(dir, $"{index:D6}.chunk");
    private string PreviousPath(string target) => Path.Combine(_root, "previous", Path.GetFileName(target));

    private static void WriteAtomically(string path, byte[] bytes)
    {
        File.WriteAllBytes(path + ".tmp", bytes);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
