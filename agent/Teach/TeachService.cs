using System.Text.Json;
using System.Threading.Channels;
using EdgePatchCore.Agent.Publishing;
using MQTTnet;

namespace EdgePatchCore.Agent.Teach;

/// <summary>
/// {prefix}/teach: an operator (a SCADA button) marks frames as good, e.g.
/// {"frameIds": ["cam1-000123"], "label": "good", "by": "j.smith", "note": "new belt"}. Each known frame is
/// copied from the <see cref="FrameStore"/> into the <see cref="TeachSet"/>; the answer on {prefix}/teach/status
/// lists what was accepted, what was taught already, what is unknown (never kept, or expired) and what was
/// refused with the reason. Marking the same frame again changes nothing.
/// </summary>
public sealed class TeachService : BackgroundService
{
    public const int MaxFramesPerRequest = 1000, MaxRequestBytes = 512 << 10;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { MaxDepth = 4 };

    private readonly FrameStore _store;
    private readonly TeachSet _set;
    private readonly BrokerConnection _broker;
    private readonly string _statusTopic;
    private readonly ILogger<TeachService> _logger;
    private readonly Channel<byte[]> _requests = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(64) { FullMode = BoundedChannelFullMode.DropWrite });

    public TeachService(FrameStore store, TeachSet set, BrokerConnection broker, TopicNames topics, ILogger<TeachService> logger)
    {
        _store = store;
        _set = set;
        _broker = broker;
        _logger = logger;
        _statusTopic = topics.Prefix + "/teach/status";
        broker.Subscribe(topics.Prefix + "/teach", OnRequest);
    }

    private sealed record TeachRequest(string[]? FrameIds, string? Label, string? By, string? Note, string? Product, string? RequestId);

    public sealed record TeachStatus(string Schema, string? RequestId, IReadOnlyList<string> Accepted, IReadOnlyList<string> AlreadyTaught,
                                     IReadOnlyList<string> Unknown, IReadOnlyList<RefusedFrame> Refused, string? Error, int TeachSetSize, DateTimeOffset At);
    public sealed record RefusedFrame(string FrameId, string Reason);

    private Task OnRequest(MqttApplicationMessageReceivedEventArgs e)
    {
        var payload = e.ApplicationMessage.Payload;
        if (payload.Length > MaxRequestBytes || !_requests.Writer.TryWrite(System.Buffers.BuffersExtensions.ToArray(payload)))
            _logger.LogWarning("Teach: a request was dropped (over {Max} bytes, or too many waiting)", MaxRequestBytes);
        return Task.CompletedTask; // never waits: frames share this receive loop
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var payload in _requests.Reader.ReadAllAsync(stoppingToken))
        {
            var status = Handle(payload);
            _logger.LogInformation("Teach: {Accepted} accepted, {Already} taught already, {Unknown} unknown, {Refused} refused{Error}; teach set {Size}",
                status.Accepted.Count, status.AlreadyTaught.Count, status.Unknown.Count, status.Refused.Count,
                status.Error is null ? "" : $" ({status.Error})", status.TeachSetSize);
            await _broker.PublishTransientAsync(_statusTopic, JsonSerializer.SerializeToUtf8Bytes(status, Json), stoppingToken);
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
                    (_set.Add(frame, "good", Optional(request.By, 128), Optional(request.Note, 1024)) ? accepted : already).Add(id);
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
}
