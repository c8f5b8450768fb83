using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Agent.Publishing;
using EdgePatchCore.Deployment;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// {prefix}/teach: an operator (a SCADA button) marks frames as good, e.g.
/// {"frameIds": ["cam1-000123"], "label": "good", "by": "j.smith", "note": "new belt"}. Each known frame is
/// copied from the <see cref="FrameStore"/> into the <see cref="TeachSet"/>; the answer on {prefix}/teach/status
/// lists what was accepted, what was taught already, what is unknown (never kept, or expired) and what was
/// refused with the reason. Marking the same frame again changes nothing. `trainer collect` fetches the teach
/// set on {prefix}/teach/collect (<see cref="CollectProtocol"/>).
/// </summary>
public sealed class TeachService : BackgroundService
{
    public const int MaxFramesPerRequest = 1000, MaxRequestBytes = 512 << 10;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { MaxDepth = 4 };

    private readonly FrameStore _store;
    private readonly ModelStore.ModelStore _models;
    private readonly OnDeviceExtender _onDevice;
    private readonly FrameKeeper _keeper;
    private readonly TeachSet _set;
    private readonly BrokerConnection _broker;
    private readonly string _statusTopic;
    private readonly ILogger<TeachService> _logger;
    private readonly Channel<(bool Collect, byte[] Payload)> _requests =
        Channel.CreateBounded<(bool, byte[])>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly string _prefix, _deviceId;

    public TeachService(FrameStore store, FrameKeeper keeper, TeachSet set, ModelStore.ModelStore models, OnDeviceExtender onDevice, BrokerConnection broker, TopicNames topics, Microsoft.Extensions.Options.IOptions<Configuration.AgentOptions> options,
                        ILogger<TeachService> logger)
    {
        _models = models;
        _onDevice = onDevice;
        _keeper = keeper;
        _prefix = topics.Prefix;
        _deviceId = options.Value.DeviceId;
        _store = store;
        _set = set;
        _broker = broker;
        _logger = logger;
        _statusTopic = topics.Prefix + "/teach/status";
        broker.Subscribe(topics.Prefix + "/teach", e => OnRequest(e, collect: false));
        broker.Subscribe(CollectProtocol.RequestTopic(topics.Prefix), e => OnRequest(e, collect: true));
    }

    private sealed record TeachRequest(string[]? FrameIds, string? Label, string? By, string? Note, string? Product, string? RequestId);

    public sealed record TeachStatus(string Schema, string? RequestId, IReadOnlyList<string> Accepted, IReadOnlyList<string> AlreadyTaught,
                                     IReadOnlyList<string> Unknown, IReadOnlyList<RefusedFrame> Refused, string? Error, int TeachSetSize, DateTimeOffset At);
    public sealed record RefusedFrame(string FrameId, string Reason);

    private Task OnRequest(MqttApplicationMessageReceivedEventArgs e, bool collect)
    {
        var payload = e.ApplicationMessage.Payload;
        if (payload.Length > MaxRequestBytes || !_requests.Writer.TryWrite((collect, System.Buffers.BuffersExtensions.ToArray(payload))))
            _logger.LogWarning("Teach: a request was dropped (over {Max} bytes, or too many waiting)", MaxRequestBytes);
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
            _logger.LogInformation("Teach: {Accepted} accepted, {Already} taught already, {Unknown} unknown, {Refused} refused{Error}; teach set {Size}",
                status.Accepted.Count, status.AlreadyTaught.Count, status.Unknown.Count, status.Refused.Count,
                status.Error is null ? "" : $" ({status.Error})", status.TeachSetSize);
            await _broker.PublishReliableAsync(_statusTopic, JsonSerializer.SerializeToUtf8Bytes(status, Json), stoppingToken);
            if (_onDevice.Enabled && status.Accepted.Count > 0)
            {
                var taught = _set.Frames().Where(f => status.Accepted.Contains(f.FrameId) && f.Product is not null)
                    .Select(f => (f.Product!, Path.Combine(_set.Root, f.File))).ToList();
                await Task.Run(() => _onDevice.Extend(taught, stoppingToken), stoppingToken); // seconds of CPU: off the MQTT loop
            }
        }
    }

    /// <summary>Applies one request; every outcome, an unreadable request included, is an answer.</summary>
    public TeachStatus Handle(byte[] payload)
    {
        TeachRequest? request = null;
        string? error = null;
        try { request = JsonSerializer.Deserialize<TeachRequest>(payload, Json); }
        catch (JsonException ex) { error = $"not a teach request: {ex.Message}"; }
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
                if (request!.Product is { } product && frame.Verdict.Product != product)
                {
                    refused.Add(new RefusedFrame(id, $"frame {id} is product '{frame.Verdict.Product}', not '{Text.Cap(product, 128)}'"));
                    continue;
                }
                if (frame.Verdict.Result == Verdict.Error)
                {
                    refused.Add(new RefusedFrame(id, $"frame {id} was not scored ({frame.Verdict.ErrorText}): it cannot teach the model"));
                    continue;
                }
                try
                {
                    string? spec = _models.Snapshot().FirstOrDefault(m => m.Id == frame.Verdict.Model?.Id)?.FeatureSpec; // unknown once that model is gone
                    (_set.Add(frame, "good", Optional(request.By, 128), Optional(request.Note, 1024), spec) ? accepted : already).Add(id);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    refused.Add(new RefusedFrame(id, $"cannot store frame {id} in the teach set: {ex.Message}"));
                }
            }
        }
        return new TeachStatus("edgepatchcore.teach-status/1", Optional(request?.RequestId, 128), accepted, already, unknown, refused, error, _set.Count, DateTimeOffset.UtcNow);
    }

    private static string? Optional(string? text, int max) => text is null ? null : Text.Cap(text, max);

    /// <summary>Answers a collect request: the list of taught frames, or one file's chunks from the requested index.</summary>
    private async Task CollectAsync(byte[] payload, CancellationToken stop)
    {
        CollectRequest? request;
        try { request = JsonSerializer.Deserialize<CollectRequest>(payload, DeployProtocol.Json); }
        catch (JsonException) { request = null; }
        if (request is null || !CollectProtocol.IsValidCollectId(request.CollectId))
        {
            _logger.LogWarning("Teach: an unreadable collect request was ignored");
            return;
        }
        string answerTopic = CollectProtocol.AnswerTopic(_prefix, request.CollectId);
        Task Answer(CollectAnswer answer) => _broker.PublishReliableAsync(answerTopic, JsonSerializer.SerializeToUtf8Bytes(answer, DeployProtocol.Json), stop);
        var frames = _set.Frames();
        if (request.Type == CollectProtocol.List)
        {
            var entries = new List<CollectEntry>();
            foreach (var f in frames.Where(f => request.Since is null || f.TaughtAt >= request.Since))
            {
                byte[] bytes = await File.ReadAllBytesAsync(Path.Combine(_set.Root, f.File), stop);
                entries.Add(new CollectEntry(f.FrameId, f.File, bytes.LongLength, DeployProtocol.Hex(SHA256.HashData(bytes)), f.Product, f.ModelId,
                                             f.Verdict, f.Score, f.Threshold, f.ScoredAt, f.By, f.Note, f.TaughtAt, f.FeatureSpec));
            }
            _logger.LogInformation("Teach: collect {Id} lists {Count} taught frame(s)", request.CollectId, entries.Count);
            await Answer(new CollectAnswer(CollectProtocol.List, _deviceId, entries));
            return;
        }
        if (request.Type == CollectProtocol.Clear)
        {
            int removed = _set.Remove((request.Files ?? []).ToHashSet(StringComparer.Ordinal));
            _logger.LogInformation("Teach: collect {Id} took {Count} frame(s); removed from the teach set", request.CollectId, removed);
            await Answer(new CollectAnswer(CollectProtocol.Cleared, _deviceId, [], $"{removed} frame(s) removed, {_set.Count} left"));
            return;
        }
        // "get": only files of the teach set, by the exact name the list gave (never a path from the request).
        var frame = frames.FirstOrDefault(f => f.File == request.File);
        if (request.Type != CollectProtocol.Get || frame is null
            || request.ChunkSize is < CollectProtocol.MinChunkBytes or > CollectProtocol.MaxChunkBytes || request.From < 0)
        {
            await Answer(new CollectAnswer(CollectProtocol.Error, _deviceId, [], $"cannot answer '{Text.Cap(request.Type, 16)}' for '{Text.Cap(request.File, 256)}'"));
            return;
        }
        byte[] file = await File.ReadAllBytesAsync(Path.Combine(_set.Root, frame.File), stop);
        int count = (int)DeployProtocol.ChunkCountFor(file.LongLength, request.ChunkSize);
        for (int index = request.From; index < count; index++)
        {
            var chunk = file.AsMemory(index * request.ChunkSize, (int)Math.Min(request.ChunkSize, file.LongLength - (long)index * request.ChunkSize));
            static ReadOnlyMemory<byte> U(string text) => System.Text.Encoding.UTF8.GetBytes(text);
            var message = new MqttApplicationMessageBuilder().WithTopic(answerTopic).WithPayload(chunk.ToArray())
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                .WithUserProperty(DeployProtocol.TypeProperty, U(CollectProtocol.Chunk))
                .WithUserProperty(CollectProtocol.FileProperty, U(frame.File))
                .WithUserProperty(DeployProtocol.IndexProperty, U(index.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .WithUserProperty("count", U(count.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .WithUserProperty(DeployProtocol.HashProperty, U(DeployProtocol.Hex(SHA256.HashData(chunk.Span)))).Build();
            if (!await _broker.PublishMessageAsync(message, stop)) return; // not connected: the collector asks again
        }
    }
}
