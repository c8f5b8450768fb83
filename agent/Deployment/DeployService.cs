using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Trust;
using EdgePatchCore.Artifacts;
using EdgePatchCore.Deployment;
using EdgePatchCore.FileSystem;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Packets;
using EdgePatchCore.Messaging;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Deployment;

/// <summary>
/// Receives artifacts over MQTT from `trainer deploy` (see <see cref="DeployProtocol"/>) into the slot a
/// deploy names, one transfer per slot: verified chunks are stored under {state}/deploy/transfers/{id}, so
/// an interrupted transfer resumes, and transfers idle for Deployment:TransferExpiryMinutes are deleted.
/// On commit: the whole file's hash, then the artifact is admitted (<see cref="ModelAdmission"/>), built and
/// warmed up off to the side, and only then installed over the served file (the file it replaces is kept as
/// {state}/deploy/previous/NAME) and swapped in. A refusal at any step leaves the served model and its file
/// untouched. Requests are taken off the MQTT receive loop without ever waiting (a full queue drops them),
/// so nothing here can hold up frame intake. Answers on {prefix}/deploy/status.
/// Over 300 lines on purpose: one transfer state machine (begin, chunks, commit, rollback) whose admission and install share its slots.
/// </summary>
public sealed class DeployService : BackgroundService, IInboundHandler
{
    /// <summary>{prefix}/deploy/request.</summary>
    public IReadOnlyList<string> Filters { get; }

    public Task HandleAsync(string filter, MqttApplicationMessageReceivedEventArgs message) => OnRequest(message);

    private sealed record Request(string Type, Dictionary<string, string> Properties, byte[] Payload);

    private readonly AgentOptions _options;
    private readonly ModelStore.ModelStore _models;
    private readonly ModelAdmission _admission;
    private readonly Outbox _outbox;
    private readonly BrokerConnection _broker;
    private readonly string _prefix, _statusTopic, _root;
    private readonly ILogger<DeployService> _logger;
    // Requests in arrival order. A flood is dropped rather than queued without bound, but chunks (up to 4 MiB each)
    // and the small control requests (begin, commit, rollback) have separate limits: a burst of chunks can never
    // push out the commit that follows it.
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private const int MaxPendingChunks = 64, MaxPendingControl = 16, MaxControlBytes = 64 << 10; // a begin or rollback is a few hundred bytes of JSON
    private int _pendingChunks, _pendingControl;
    private readonly TokenBucketRateLimiter _replies = new(new TokenBucketRateLimiterOptions
        { TokenLimit = 50, TokensPerPeriod = 20, ReplenishmentPeriod = TimeSpan.FromSeconds(1), QueueLimit = 0, AutoReplenishment = true });
    private readonly TransferStore<ModelOptions> _transfers;
    // The final answers of the last few commits: a commit repeated by the trainer (it re-sends one that got no answer
    // in time) gets the same answer again instead of "unknown transfer".
    private readonly Dictionary<string, DeployStatus> _finished = new(StringComparer.Ordinal);
    private readonly Queue<string> _finishedOrder = new();
    private long _droppedRequests, _droppedReplies;

    public DeployService(IOptions<AgentOptions> options, ModelStore.ModelStore models, ModelAdmission admission, Outbox outbox, TopicNames topics,
                         BrokerConnection broker, ILogger<DeployService> logger)
    {
        _options = options.Value;
        _models = models;
        _admission = admission;
        _outbox = outbox;
        _broker = broker;
        _logger = logger;
        _prefix = topics.Prefix;
        _statusTopic = DeployProtocol.StatusTopic(topics.Prefix);
        _root = Path.Combine(_options.ResolvedStateDirectory, "deploy");
        _transfers = new TransferStore<ModelOptions>(_root, logger);
        Filters = [DeployProtocol.RequestTopic(topics.Prefix)];
    }

    /// <summary>Requests dropped because the queue was full (a flood).</summary>
    public long DroppedRequests => Interlocked.Read(ref _droppedRequests);

    private Task OnRequest(MqttApplicationMessageReceivedEventArgs e)
    {
        var message = e.ApplicationMessage;
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in (message.UserProperties ?? []).Take(16))
            properties.TryAdd(p.Name, p.ReadValueAsString());
        string type = properties.GetValueOrDefault(DeployProtocol.TypeProperty, "");
        bool chunk = type == DeployProtocol.Chunk;
        ref int pending = ref chunk ? ref _pendingChunks : ref _pendingControl;
        bool room = Interlocked.Increment(ref pending) <= (chunk ? MaxPendingChunks : MaxPendingControl);
        if (!room || message.Payload.Length > (chunk ? DeployProtocol.MaxChunkBytes : MaxControlBytes)
            || !_requests.Writer.TryWrite(new Request(type, properties, System.Buffers.BuffersExtensions.ToArray(message.Payload))))
        {
            Interlocked.Decrement(ref pending);
            long n = Interlocked.Increment(ref _droppedRequests);
            if (n == 1 || n % 1000 == 0) _logger.LogWarning("Deploy: dropped a {Type} request (queue full or payload too large; {Count} so far)",
                type, n);
        }
        return Task.CompletedTask; // never waits: frames share this receive loop
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        if (!_admission.DeploymentEnabled)
            _logger.LogWarning("Over-the-air deployment is off: no Agent:TrustedKeys are configured (deploy requests are refused). " +
                               "Give the agent the plant's public key to turn it on");
        else if (_admission.Trusted.Count == 0)
            _logger.LogWarning("Agent:Deployment:AllowUnsigned is on: UNSIGNED models are accepted over the air from anyone who can publish to " +
                               "{Topic}. Use this in a lab only; configure Agent:TrustedKeys on a production line",
                                   DeployProtocol.RequestTopic(_prefix));
        _transfers.Recover(TimeSpan.FromMinutes(_options.Deployment.TransferExpiryMinutes), begin =>
            begin.Validate(_options.Deployment.MaxArtifactBytes) is null && ResolveSlot(begin.Product!, begin.Slot, out _) is { } slot
                ? (slot, Path.GetFullPath(slot.Artifact)) : null);
        var sweep = DateTime.UtcNow;
        var sweepEvery = TimeSpan.FromSeconds(Math.Clamp(_options.Deployment.TransferExpiryMinutes * 30, 1,
            30)); // twice per expiry, at most every 30 s
        while (!stoppingToken.IsCancellationRequested)
        {
            Request? request = null;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                wait.CancelAfter(sweepEvery);
                try { request = await _requests.Reader.ReadAsync(wait.Token); }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested) { }
            }
            if (DateTime.UtcNow - sweep >= sweepEvery)
            {
                sweep = DateTime.UtcNow;
                _transfers.Expire(TimeSpan.FromMinutes(_options.Deployment.TransferExpiryMinutes));
            }
            if (request is null) continue;
            Interlocked.Decrement(ref request.Type == DeployProtocol.Chunk ? ref _pendingChunks : ref _pendingControl);
            string transfer = request.Properties.GetValueOrDefault(DeployProtocol.TransferProperty, "?");
            try
            {
                await HandleAsync(request, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception ex) // a malformed request or a disk fault is an answer, never the end of the service
            {
                _logger.LogError("Deploy request {Type} ({Transfer}) failed: {Reason}", request.Type, Text.Cap(transfer, 64), ex.Message);
                Reply(new DeployStatus(Text.Cap(transfer, 64), DeployProtocol.Refused, Reason: Text.Cap($"{request.Type} failed: {ex.Message}",
                    512)));
            }
        }
    }

    private async Task HandleAsync(Request request, CancellationToken cancel)
    {
        switch (request.Type)
        {
            case DeployProtocol.Begin:
                Begin(JsonSerializer.Deserialize<DeployBegin>(request.Payload, DeployProtocol.Json) ?? throw new JsonException("empty begin"));
                break;
            case DeployProtocol.Chunk:
                _transfers.Accept(request.Properties.GetValueOrDefault(DeployProtocol.TransferProperty, ""),
                    request.Properties.GetValueOrDefault(DeployProtocol.IndexProperty),
                        request.Properties.GetValueOrDefault(DeployProtocol.HashProperty), request.Payload);
                break;
            case DeployProtocol.Commit:
                await Task.Run(() => Commit(request.Properties.GetValueOrDefault(DeployProtocol.TransferProperty, "")), cancel);
                break;
            case DeployProtocol.Rollback:
                var rollback = JsonSerializer.Deserialize<DeployRollback>(request.Payload, DeployProtocol.Json)
                    ?? throw new JsonException("empty rollback");
                await Task.Run(() => Rollback(rollback), cancel);
                break;
            default:
                _logger.LogWarning("Ignoring a deploy request of unknown type '{Type}'", Text.Cap(request.Type, 32));
                break;
        }
    }

    private void Begin(DeployBegin begin)
    {
        if (!_admission.DeploymentEnabled) { Refuse(begin.TransferId,
            "over-the-air deployment is off on this device: it has no Agent:TrustedKeys"); return; }
        if (begin.Validate(_options.Deployment.MaxArtifactBytes) is { } problem) { Refuse(begin.TransferId, problem); return; }
        var slot = ResolveSlot(begin.Product!, begin.Slot, out string? why);
        if (slot is null) { Refuse(begin.TransferId, why!); return; }
        string slotPath = Path.GetFullPath(slot.Artifact);
        if (_admission.Trusted.Count > 0 && _admission.EarlyRefusal(begin.Product!, begin.ReleaseVersion) is { } early)
        {
            Refuse(begin.TransferId, early); // before megabytes travel; the signed statement is checked again at commit
            return;
        }

        // One transfer per slot: a new one for the same slot replaces the one in progress.
        foreach (var other in _transfers.InProgress.Where(t => t.Target == slotPath && t.Begin.TransferId != begin.TransferId).ToList())
        {
            _logger.LogInformation("Deploy {Transfer}: replaces transfer {Old} for the same slot", begin.TransferId, other.Begin.TransferId);
            _transfers.Delete(other);
        }
        if (!_transfers.TryGet(begin.TransferId, out var known) || known.Begin != begin)
        {
            if (_transfers.SpaceProblem(begin) is { } space) { Refuse(begin.TransferId, space); return; }
        }
        var transfer = _transfers.Open(begin, slot, slotPath);
        transfer.LastActivityUtc = DateTime.UtcNow;
        var (missing, count) = TransferStore<ModelOptions>.Missing(transfer);
        _logger.LogInformation("Deploy {Transfer}: receiving {File} for {Product} into {Slot} ({Size} bytes, {Chunks} chunks, {Missing} missing)",
            begin.TransferId, Text.Cap(begin.FileName, 64), begin.Product, slotPath, begin.Size, begin.ChunkCount, count);
        Reply(new DeployStatus(begin.TransferId, DeployProtocol.Receiving, Missing: missing, MissingCount: count));
    }

    private void Commit(string id)
    {
        if (!_transfers.TryGet(id, out var transfer))
        {
            if (_finished.TryGetValue(id, out var answered)) Reply(answered); // a repeated commit
            else Refuse(id, "unknown transfer: send it again");
            return;
        }
        transfer.LastActivityUtc = DateTime.UtcNow;
        var begin = transfer.Begin;
        var (missing, count) = TransferStore<ModelOptions>.Missing(transfer);
        if (count > 0)
        {
            Reply(new DeployStatus(id, DeployProtocol.Receiving, Missing: missing, MissingCount: count));
            return;
        }
        if (_transfers.Assemble(transfer) is not { } assembled)
        {
            Refuse(id, "whole-file SHA-256 mismatch: the transfer was corrupted; send it again", report: true);
            return;
        }

        string target = transfer.Target;
        string? failure = _models.Exclusive(() =>
        {
            LoadedModel prepared;
            try
            {
                prepared = _models.Prepare(assembled, transfer.Slot, ModelOrigin.OverTheAir, a =>
                    a.Content.Manifest.Product == begin.Product ? null
                        : $"the deploy named product '{begin.Product}' but the artifact is for '{a.Content.Manifest.Product}'");
            }
            catch (ModelRefusedException e)
            {
                return e.Message.Replace(assembled, Text.Cap(begin.FileName, 64));
            }
            try
            {
                Install(assembled, target);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                prepared.Release();
                return $"the model could not be installed at {target}: {e.Message}";
            }
            _models.Serve(target, prepared, FileStamp.Of(target));
            return null;
        });
        _transfers.Delete(transfer);
        if (failure is not null)
        {
            _models.Refuse(target, $"deploy {id}: {failure}");
            Reply(Finished(new DeployStatus(id, DeployProtocol.Refused, Reason: Text.Cap(failure, 1024))), durable: true);
            return;
        }
        var served = _models.Snapshot().FirstOrDefault(m => m.Path == target);
        _logger.LogInformation("Deploy {Transfer}: model {Model} deployed to {Target}", id, served?.Id, target);
        Reply(Finished(new DeployStatus(id, DeployProtocol.Deployed, Model: served?.Id, ReleaseVersion: served?.Release)), durable: true);
    }

    private void Rollback(DeployRollback request)
    {
        string id = DeployProtocol.IsValidTransferId(request.TransferId) ? request.TransferId : "invalid";
        if (!_admission.DeploymentEnabled) { Refuse(id, "over-the-air deployment is off on this device: it has no Agent:TrustedKeys"); return; }
        if (request.Product is not null && !DeployProtocol.IsValidName(request.Product)) { Refuse(id, "invalid product name"); return; }
        var slot = request.Product is null && _options.AllModels.Count == 1 ? _options.AllModels[0] : ResolveSlot(request.Product ?? "", null, out _);
        if (slot is null)
        {
            Refuse(id,
                request.Product is null ? "this device serves several products: name one (--product)" : $"this device has no slot for product " +
                    $"'{request.Product}'");
            return;
        }
        string target = Path.GetFullPath(slot.Artifact), previous = PreviousPath(target);
        if (!File.Exists(previous)) { Refuse(id, "no previous artifact is kept on this device", report: true); return; }

        RollbackStatement? statement = null;
        var origin = ModelOrigin.File;
        if (_admission.Trusted.Count > 0)
        {
            if (request.Authorization is null) { Refuse(id,
                "a rollback must be signed by a trusted key (trainer deploy --rollback --sign KEY.pem --to-version N)", report: true); return; }
            statement = request.Authorization.Verify(_admission.Trusted, out string? why);
            if (statement is null) { Refuse(id, why!, report: true); return; }
            string servedProduct = _models.Snapshot().FirstOrDefault(m => m.Path == target)?.Product ?? slot.Product ?? "";
            if (statement.Device != _prefix) { Refuse(id, $"the rollback was signed for device {Text.Cap(statement.Device, 128)}, not {_prefix}",
                report: true); return; }
            if (statement.Product != servedProduct) { Refuse(id,
                $"the rollback names product '{Text.Cap(statement.Product, 128)}', this slot serves '{servedProduct}'", report: true); return; }
            if (DateTime.UtcNow >= statement.ExpiresAtUtc) { Refuse(id, $"the rollback authorisation expired at {statement.ExpiresAtUtc:u}",
                report: true); return; }
            if (_admission.Ledger.IsRollbackUsed(statement.Nonce)) { Refuse(id, "this rollback authorisation was already used (replay refused)",
                report: true); return; }
            origin = ModelOrigin.AuthorisedRollback;
        }
        else _logger.LogWarning("Rollback {Transfer}: accepted without a signature (Agent:Deployment:AllowUnsigned, no trusted keys)", id);

        string? failure = _models.Exclusive(() =>
        {
            LoadedModel prepared;
            try
            {
                prepared = _models.Prepare(previous, slot, origin, a =>
                    statement is null || a.Release?.Version == statement.ToVersion ? null
                        : $"the previous model on this device is release {a.Release?.Version.ToString() ?? "(none)"}, but the rollback names " +
                            $"release {statement.ToVersion}");
            }
            catch (ModelRefusedException e)
            {
                return $"the previous artifact cannot be served: {e.Message}";
            }
            try
            {
                // Swap the files, so that a second rollback returns to the newer model.
                string swap = previous + ".swap";
                if (File.Exists(target)) DurableFile.Copy(target, swap);
                DurableFile.Copy(previous, target);
                if (File.Exists(swap)) DurableFile.Move(swap, previous);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                prepared.Release();
                return $"the previous model could not be installed at {target}: {e.Message}";
            }
            if (statement is not null) _admission.Ledger.RollBack(prepared.Product, statement.ToVersion, prepared.PayloadHash, statement.Nonce,
                statement.ExpiresAtUtc);
            _models.Serve(target, prepared, FileStamp.Of(target), recordRelease: false);
            return null;
        });
        if (failure is not null)
        {
            Refuse(id, failure, report: true);
            return;
        }
        var served = _models.Snapshot().FirstOrDefault(m => m.Path == target);
        _logger.LogInformation("Rollback {Transfer}: model {Model} serving again from {Target}", id, served?.Id, target);
        Reply(new DeployStatus(id, DeployProtocol.RolledBack, Model: served?.Id, ReleaseVersion: served?.Release), durable: true);
    }

    /// <summary>
    /// The configured slot a deploy goes to: the one named <paramref name="slotName"/> (by its configured
    /// product, the product it serves, or its file name without extension), else the one for
    /// <paramref name="product"/>; on a device with one slot that serves nothing yet, that slot.
    /// A model for another product is never put in a slot unless the deploy names that slot.
    /// </summary>
    private ModelOptions? ResolveSlot(string product, string? slotName, out string? why)
    {
        var served = _models.Snapshot();
        var slots = _options.AllModels.Select(m =>
        {
            string path = Path.GetFullPath(m.Artifact);
            return (Options: m, Product: m.Product ?? served.FirstOrDefault(s => s.Path == path)?.Product,
                Stem: Path.GetFileNameWithoutExtension(path));
        }).ToList();
        string wanted = slotName ?? product;
        var match = slots.FirstOrDefault(s => s.Product == wanted || (slotName is not null && s.Product is null && s.Stem == slotName));
        why = null;
        if (match.Options is not null)
        {
            if (slotName is not null && match.Product is not null && match.Product != product)
                _logger.LogWarning("Deploy: the model for {Product} replaces the {Slot} model (the deploy named that slot)", product, match.Product);
            return match.Options;
        }
        if (slotName is null && slots.Count == 1 && slots[0].Product is null) return slots[0].Options;
        string list = string.Join(", ", slots.Select(s => s.Product ?? $"{s.Stem} (empty)"));
        why = slotName is null
            ? $"this device has no slot for product '{product}' (slots: {list}); to replace another product's model, name its slot: trainer deploy " +
                $"... --slot NAME"
            : $"this device has no slot named '{slotName}' (slots: {list})";
        return null;
    }

    /// <summary>Copies next to the target and renames over it (durably), keeping the served file as the previous one.</summary>
    private void Install(string source, string target)
    {
        string previous = PreviousPath(target);
        Directory.CreateDirectory(Path.GetDirectoryName(previous)!);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (File.Exists(target)) DurableFile.Copy(target, previous);
        DurableFile.Copy(source, target);
    }

    /// <summary>Remembers a commit's final answer (the last 16) for a repeated commit.</summary>
    private DeployStatus Finished(DeployStatus status)
    {
        if (_finished.TryAdd(status.TransferId, status)) _finishedOrder.Enqueue(status.TransferId);
        else _finished[status.TransferId] = status;
        while (_finishedOrder.Count > 16) _finished.Remove(_finishedOrder.Dequeue());
        return status;
    }

    private void Refuse(string transfer, string reason, bool report = false)
    {
        _logger.LogError("Deploy {Transfer} refused: {Reason}", Text.Cap(transfer, 64), reason);
        Reply(new DeployStatus(Text.Cap(transfer, 64), DeployProtocol.Refused, Reason: Text.Cap(reason, 1024)), durable: report);
    }

    /// <summary>
    /// Final answers (deployed, rolled back, refused after a complete transfer) go through the outbox; the
    /// rest are published directly and rate-limited, so a flood of bad requests cannot fill the outbox.
    /// </summary>
    private void Reply(DeployStatus status, bool durable = false)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(status, DeployProtocol.Json);
        if (durable) { _outbox.Append(_statusTopic, payload); return; }
        using var lease = _replies.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            long n = Interlocked.Increment(ref _droppedReplies);
            if (n == 1 || n % 1000 == 0) _logger.LogWarning("Deploy: answers are rate-limited ({Count} not sent)", n);
            return;
        }
        _ = _broker.PublishReliableAsync(_statusTopic, payload, CancellationToken.None);
    }

    private string PreviousPath(string target) => Path.Combine(_root, "previous", Path.GetFileName(target));

    public override void Dispose()
    {
        _replies.Dispose();
        base.Dispose();
    }
}
