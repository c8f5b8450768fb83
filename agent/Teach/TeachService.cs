using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Trust;
using EdgePatchCore.Deployment;
using MQTTnet;
using MQTTnet.Protocol;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// {prefix}/teach: an operator (a SCADA button) marks frames as good with a message authenticated by the line's
/// secret (<see cref="TeachAuthentication"/>, docs/TEACH.md). Each known frame is copied from the
/// <see cref="FrameStore"/> into the <see cref="TeachSet"/>; the answer on {prefix}/teach/status lists what was
/// accepted, what was taught already, what is unknown (never kept, or expired) and what was refused with the reason,
/// or why the whole message was refused (not authentic, stale, replayed). Marking the same frame again changes
/// nothing. `trainer collect` fetches the teach set on {prefix}/teach/collect with requests signed by the plant key
/// (<see cref="CollectProtocol"/>), and reverts a derived model the same way.
/// </summary>
public sealed class TeachService : BackgroundService, IInboundHandler
{
    /// <summary>{prefix}/teach and {prefix}/teach/collect.</summary>
    public IReadOnlyList<string> Filters { get; }

    public Task HandleAsync(string filter, MqttApplicationMessageReceivedEventArgs message) => OnRequest(message, collect: filter == Filters[1]);

    public const int MaxFramesPerRequest = 1000, MaxRequestBytes = 512 << 10, MaxWaiting = 64;
    private static readonly JsonSerializerOptions StatusJson = new(JsonSerializerDefaults.Web); // every field, null ones too

    private readonly FrameStore _store;
    private readonly ModelStore.ModelStore _models;
    private readonly OnDeviceExtender _onDevice;
    private readonly FrameKeeper _keeper;
    private readonly TeachSet _set;
    private readonly BrokerConnection _broker;
    private readonly TeachAuthentication _authentication;
    private readonly ModelAdmission _admission;
    private readonly NonceLedger _nonces;
    private readonly DropCounter _drops;
    private readonly bool _allowUnsigned;
    private readonly string _statusTopic;
    private readonly ILogger<TeachService> _logger;
    // Wait mode with TryWrite: a full channel answers false, and the drop is counted (DropWrite would hide it).
    private readonly Channel<(bool Collect, byte[] Payload)> _requests =
        Channel.CreateBounded<(bool, byte[])>(new BoundedChannelOptions(MaxWaiting) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    private readonly string _prefix, _deviceId;

    public TeachService(FrameStore store, FrameKeeper keeper, TeachSet set, ModelStore.ModelStore models, OnDeviceExtender onDevice,
        BrokerConnection broker,
                        TopicNames topics, Microsoft.Extensions.Options.IOptions<Configuration.AgentOptions> options, ModelAdmission admission,
                        NonceLedger nonces, DropCounter drops, ILogger<TeachService> logger)
    {
        _models = models;
        _onDevice = onDevice;
        _keeper = keeper;
        _prefix = topics.Prefix;
        _deviceId = options.Value.DeviceId;
        _allowUnsigned = options.Value.Deployment.AllowUnsigned;
        _store = store;
        _set = set;
        _broker = broker;
        _admission = admission;
        _nonces = nonces;
        _drops = drops;
        _authentication = new TeachAuthentication(options.Value.Teach, options.Value.DeviceId, nonces);
        _logger = logger;
        _statusTopic = topics.Prefix + "/teach/status";
        Filters = [topics.Prefix + "/teach", CollectProtocol.RequestTopic(topics.Prefix)];
        if (options.Value.Teach.OnDevice) logger.LogWarning("{Sentence}", options.Value.Teach.DerivedModelsSentence(options.Value.SignatureRequired));
        if (!_authentication.Enabled)
            logger.LogWarning("Teaching is off: no line secret for {Topic} (Agent:Teach:SecretFile or the teach-secret credential; docs/TEACH.md)",
                topics.Prefix + "/teach");
    }

    private Task OnRequest(MqttApplicationMessageReceivedEventArgs e, bool collect)
    {
        var payload = e.ApplicationMessage.Payload;
        string what = collect ? "collect-request" : "teach-request";
        if (payload.Length > MaxRequestBytes) _drops.Drop(what, $"a request over {MaxRequestBytes} bytes");
        else if (!_requests.Writer.TryWrite((collect, System.Buffers.BuffersExtensions.ToArray(payload))))
            _drops.Drop(what, $"{MaxWaiting} requests are waiting already");
        return Task.CompletedTask; // never waits: frames share this receive loop
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (collect, payload) in _requests.Reader.ReadAllAsync(stoppingToken))
        {
            if (collect)
            {
                await CollectAsync(payload, stoppingToken);
                continue;
            }
            await _keeper.FlushAsync(TimeSpan.FromSeconds(5), stoppingToken); // the frames scored before the request are kept by now
            var status = Handle(payload);
            _logger.LogInformation("Teach: {Accepted} accepted, {Already} taught already, {Unknown} unknown, {Refused} refused{Error}; teach set " +
                "{Size}",
                status.Accepted.Count, status.AlreadyTaught.Count, status.Unknown.Count, status.Refused.Count,
                status.Error is null ? "" : $" ({status.Error})", status.TeachSetSize);
            if (!await _broker.PublishReliableAsync(_statusTopic, JsonSerializer.SerializeToUtf8Bytes(status, StatusJson), stoppingToken))
                _drops.Drop("teach-answer", "an answer on teach/status could not be published (broker unreachable); the request was applied");
            if (_onDevice.Enabled && status.Accepted.Count > 0)
            {
                var products = _set.Frames().Where(f => status.Accepted.Contains(f.FrameId)
                    && f.Product is not null).Select(f => f.Product!).ToHashSet();
                await Task.Run(() => _onDevice.Extend(products, stoppingToken), stoppingToken); // seconds of CPU: off the MQTT loop
            }
        }
    }

    /// <summary>Applies one teach message; every outcome, an unauthenticated or unreadable message included, is an answer.</summary>
    public TeachStatus Handle(byte[] payload)
    {
        var request = _authentication.Open(payload, out string? error);
        var ids = (request?.FrameIds ?? []).Where(id => id is not null).Select(id => Text.FrameId(id) ?? "").Distinct().ToList();
        if (error is null)
        {
            if (request?.Label is not "good") error = $"label '{Text.Cap(request?.Label, 32)}' is not taught: only \"good\" is";
            else if (ids.Count == 0 || ids.Any(id => id.Length == 0)) error = "frameIds must list at least one frame id";
            else if (ids.Count > MaxFramesPerRequest) error = $"at most {MaxFramesPerRequest} frame ids per request";
            else if (!_store.Enabled) error = "this agent keeps no frames (Agent:Teach:KeepFrames is 0)";
        }
        List<string> accepted = [], already = [], unknown = [];
        List<RefusedFrame> refused = [];
        if (error is null)
        {
            foreach (var id in ids)
            {
                var frame = _store.Find(id);
                if (frame is null) { unknown.Add(id); continue; }
                if (Refusal(request!, frame) is { } reason)
                {
                    refused.Add(new RefusedFrame(id, reason));
                    continue;
                }
                try
                {
                    // The judging model's feature spec; unknown once that model is gone.
                    string? spec = _models.Snapshot().FirstOrDefault(m => m.Id == frame.Verdict.Model?.Id)?.FeatureSpec;
                    (_set.Add(frame, "good", _authentication.Identity, Optional(request!.Note, 1024), spec, Optional(request.Operator,
                        128)) ? accepted : already).Add(id);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    refused.Add(new RefusedFrame(id, $"cannot store frame {id} in the teach set: {ex.Message}"));
                }
            }
            try { _set.Commit(); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { error = $"the teach set's manifest cannot be written: " +
                $"{ex.Message}"; }
        }
        if (error is not null) _logger.LogWarning("Teach: a message was refused: {Reason}", Text.Cap(error, Text.MaxError));
        return new TeachStatus("edgepatchcore.teach-status/1", Optional(request?.RequestId, 128), accepted, already, unknown, refused,
                               error is null ? null : Text.Cap(error, Text.MaxError), _set.Count, DateTimeOffset.UtcNow,
                                   error is null ? _authentication.Identity : null);
    }

    /// <summary>Why a kept frame cannot be taught by <paramref name="request"/>; null when it can.</summary>
    private string? Refusal(TeachRequest request, StoredFrame frame)
    {
        string id = frame.FrameId;
        if (request.Product is { } product && frame.Verdict.Product != product)
            return $"frame {id} is product '{frame.Verdict.Product}', not '{Text.Cap(product, 128)}'";
        if (frame.Verdict.Result == Verdict.Error)
            return $"frame {id} was not scored ({frame.Verdict.ErrorText}): it cannot teach the model";
        if (_store.IsAmbiguous(id))
            return $"more than one frame came with id {id}: the mark cannot tell which one was shown, so none is taught";
        return null;
    }

    private static string? Optional(string? text, int max) => text is null ? null : Text.Cap(text, max);

    /// <summary>Answers a signed collect request: the list of taught frames, one file's chunks from the requested index, a clear or a
    /// revert.</summary>
    private async Task CollectAsync(byte[] payload, CancellationToken stop)
    {
        var request = OpenCollect(payload, out string? refusal);
        if (request is null || !CollectProtocol.IsValidCollectId(request.CollectId))
        {
            _drops.Drop("collect-refused", refusal ?? "an unreadable collect request");
            return; // no answer topic can be trusted from an unauthenticated request
        }
        string answerTopic = CollectProtocol.AnswerTopic(_prefix, request.CollectId);
        Task Answer(string type, IReadOnlyList<CollectEntry> entries, string? message = null) => _broker.PublishReliableAsync(answerTopic,
            JsonSerializer.SerializeToUtf8Bytes(new CollectAnswer(type, _deviceId, entries, message, _prefix, request.Nonce), DeployProtocol.Json),
                stop);
        if (refusal is not null)
        {
            _logger.LogWarning("Teach: collect {Id} refused: {Reason}", request.CollectId, refusal);
            await Answer(CollectProtocol.Error, [], refusal);
            return;
        }
        var frames = _set.Frames();
        switch (request.Type)
        {
            case CollectProtocol.List:
                var entries = new List<CollectEntry>();
                foreach (var f in frames.Where(f => request.Since is null || f.TaughtAt >= request.Since))
                {
                    byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(_set.Root, f.File), stop);
                    entries.Add(new CollectEntry(f.FrameId, f.File, bytes.LongLength, DeployProtocol.Hex(SHA256.HashData(bytes)), f.Product,
                        f.ModelId,
                                                 f.Verdict, f.Score, f.Threshold, f.ScoredAt, f.By, f.Note, f.TaughtAt, f.FeatureSpec, f.Operator));
                }
                _logger.LogInformation("Teach: collect {Id} lists {Count} taught frame(s)", request.CollectId, entries.Count);
                await Answer(CollectProtocol.List, entries);
                return;
            case CollectProtocol.Clear:
                int removed = _set.Remove((request.Files ?? []).ToHashSet(StringComparer.Ordinal));
                _logger.LogInformation("Teach: collect {Id} took {Count} frame(s); removed from the teach set", request.CollectId, removed);
                await Answer(CollectProtocol.Cleared, [], $"{removed} frame(s) removed, {_set.Count} left");
                return;
            case CollectProtocol.Revert:
                string reverted = await Task.Run(() => _onDevice.Revert(request.Product), stop);
                await Answer(CollectProtocol.Reverted, [], reverted);
                return;
        }
        // "get": only files of the teach set, by the exact name the list gave (never a path from the request).
        var frame = frames.FirstOrDefault(f => f.File == request.File);
        if (request.Type != CollectProtocol.Get || frame is null
            || request.ChunkSize is < CollectProtocol.MinChunkBytes or > CollectProtocol.MaxChunkBytes || request.From < 0)
        {
            await Answer(CollectProtocol.Error, [], $"cannot answer '{Text.Cap(request.Type, 16)}' for '{Text.Cap(request.File, 256)}'");
            return;
        }
        byte[] file = await File.ReadAllBytesAsync(Path.Combine(_set.Root, frame.File), stop);
        int count = (int)DeployProtocol.ChunkCountFor(file.LongLength, request.ChunkSize);
        static ReadOnlyMemory<byte> U(string text) => System.Text.Encoding.UTF8.GetBytes(text);
        for (int index = request.From; index < count; index++)
        {
            var chunk = file.AsMemory(index * request.ChunkSize, (int)Math.Min(request.ChunkSize, file.LongLength - (long)index * request.ChunkSize));
            var message = new MqttApplicationMessageBuilder().WithTopic(answerTopic).WithPayload(chunk.ToArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithUserProperty(DeployProtocol.TypeProperty, U(CollectProtocol.Chunk))
                .WithUserProperty(CollectProtocol.FileProperty, U(frame.File))
                .WithUserProperty(CollectProtocol.RequestProperty, U(request.Nonce!))
                .WithUserProperty(DeployProtocol.IndexProperty, U(index.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .WithUserProperty("count", U(count.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .WithUserProperty(DeployProtocol.HashProperty, U(DeployProtocol.Hex(SHA256.HashData(chunk.Span)))).Build();
            if (!await _broker.PublishMessageAsync(message, stop)) return; // not connected: the collector asks again
        }
    }

    /// <summary>
    /// The collect request inside a signed message, and why it is refused (null: it is taken). Null when the message
    /// cannot be read at all; a request whose signature does not verify is returned only to route the refusal to its
    /// answer topic (another device's, expired and replayed requests likewise).
    /// </summary>
    private CollectRequest? OpenCollect(byte[] payload, out string? refusal)
    {
        SignedStatement? signed;
        try { signed = JsonSerializer.Deserialize<SignedStatement>(payload, DeployProtocol.Json); }
        catch (JsonException) { signed = null; }
        if (signed is null) { refusal = "a collect request that is not a signed statement"; return null; }
        byte[]? bytes;
        if (_admission.Trusted.Count > 0) bytes = signed.Verify(_admission.Trusted, "the collect request", out refusal);
        else if (_allowUnsigned) { bytes = signed.Unchecked(); refusal = bytes is null ? "an unreadable collect request" : null; }
        else { bytes = null; refusal = "collect is off: this device has no Agent:TrustedKeys (the plant key signs collect requests)"; }
        // A request that did not verify is read only to say why on its answer topic (a small refusal, nothing of the teach set).
        var request = Parse(bytes ?? signed.Unchecked());
        if (request is null) { refusal ??= "the collect statement is malformed"; return null; }
        if (bytes is null) return request;
        var now = DateTimeOffset.UtcNow;
        if (request.Device != _prefix) refusal = $"the request is for {Text.Cap(request.Device, 128)}, not {_prefix}";
        else if (request.IssuedAt is not { } issued || request.ExpiresAt is not { } expires || expires - issued > TimeSpan.FromHours(1)
                 || issued - now > TimeSpan.FromMinutes(5) || now > expires)
            refusal = $"the request is not valid now (issued {request.IssuedAt:O}, expires {request.ExpiresAt:O}; this device's clock {now:O})";
        else if (!CollectProtocol.IsValidNonce(request.Nonce)) refusal = "the request needs a nonce of 16 to 64 letters and digits";
        else refusal = _nonces.TryUse("collect:" + request.Nonce, expires);
        return request;
    }

    private static CollectRequest? Parse(byte[]? bytes)
    {
        if (bytes is null) return null;
        try { return JsonSerializer.Deserialize<CollectRequest>(bytes, DeployProtocol.Json) is { Schema: CollectProtocol.SchemaName } r ? r : null; }
        catch (JsonException) { return null; }
    }
}
