using System.Text.Json;
using EdgePatchCore.Agent.Configuration;
using Microsoft.Extensions.Options;
using MQTTnet;
using EdgePatchCore.Messaging;
using MQTTnet.Protocol;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Mqtt;

/// <summary>
/// The agent's one MQTT 5 session: connects (once the models have been loaded, so that the Will and the
/// first status name them) with a Will that marks the device offline, reconnects with capped exponential
/// backoff, publishes the retained status, (re)subscribes the image topics, and drains the outbox in order
/// at QoS 1, deleting each message only after the broker's PUBACK. It announces its own Maximum Packet
/// Size and Receive Maximum, asking the broker to send it nothing larger than a frame or a deploy chunk
/// and no more unacknowledged frames than the queue and one batch hold, and it honours the broker's
/// Maximum Packet Size: a message
/// that cannot fit, or that the broker refuses Publishing:MaxPublishAttempts times in a row, is set aside
/// (outbox/rejected/, an event), never retried forever in front of the others. Messages the broker
/// acknowledged in the Publishing:RepublishWindowSeconds before a connection was lost are published once
/// more after the reconnect: a broker that crashes can lose what it acknowledged but had not yet saved or
/// delivered, and a duplicate (consumers de-duplicate by frameId) is better than a lost verdict.
/// Over 300 lines on purpose: one MQTT session's state (connect, drain in order, set aside, republish window) that one loop owns.
/// </summary>
public sealed class BrokerConnection : BackgroundService, ITransientPublisher
{
    private readonly AgentOptions _options;
    private readonly Outbox _outbox;
    private readonly TopicNames _topics;
    private readonly ModelStore.IServedModels _models;
    private readonly AgentEvents _events;
    private readonly ILogger<BrokerConnection> _logger;
    private readonly IMqttClient _client;
    private readonly IServiceProvider _services;
    private List<(string Filter, IInboundHandler Handler)> _subscriptions = [];
    private readonly DateTime _since = DateTime.UtcNow;
    private volatile bool _statusDirty;
    private readonly IDeviceStatus[] _devices; // cameras: their state in the status message
    private uint? _brokerMaximumPacketSize;
    private long _headSequence = -1;
    private int _headAttempts;
    private readonly Queue<(DateTime AckedAt, string Topic, byte[] Payload)> _recentlyAcknowledged = new();
    private long _recentBytes;
    private DateTime? _connectionLostAt;

    public BrokerConnection(IOptions<AgentOptions> options, Outbox outbox, TopicNames topics, ModelStore.IServedModels models, AgentEvents events,
                            IServiceProvider services, ILogger<BrokerConnection> logger, IEnumerable<IDeviceStatus> devices)
    {
        _devices = [.. devices];
        _services = services;
        _options = options.Value;
        _outbox = outbox;
        _topics = topics;
        _models = models;
        _events = events;
        _logger = logger;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessage;
        _models.Changed += () => _statusDirty = true;
        foreach (var device in _devices) device.Changed += () => _statusDirty = true;
    }

    /// <summary>True while the MQTT connection is up.</summary>
    public bool IsConnected => _client.IsConnected;
    private volatile bool _subscribed;
    /// <summary>Connected, with every inbound handler's topics subscribed: a message published to them now reaches the agent.</summary>
    public bool IsSubscribed => _subscribed && _client.IsConnected;

    public static string Version => typeof(BrokerConnection).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";


    /// <summary>The most bytes an MQTT packet to this agent may have: a frame or a deploy chunk, plus room for topic and properties.</summary>
    public uint ClientMaximumPacketSize =>
        (uint)Math.Min(uint.MaxValue >> 4, Math.Max(_options.Limits.MaxFrameBytes, EdgePatchCore.Deployment.DeployProtocol.MaxChunkBytes)
            + (64 << 10));

    /// <summary>Publishes a message that may be lost (metrics, heat maps): skipped while disconnected or when too large for the broker.</summary>
    public Task<bool> PublishTransientAsync(string topic, byte[] payload, CancellationToken cancel, string? frameId = null) =>
        PublishDirectAsync(topic, payload, MqttQualityOfServiceLevel.AtMostOnce, cancel, frameId);

    /// <summary>Publishes at QoS 1 without the outbox (answers that are worthless later): skipped while disconnected.</summary>
    public Task<bool> PublishReliableAsync(string topic, byte[] payload, CancellationToken cancel) =>
        PublishDirectAsync(topic, payload, MqttQualityOfServiceLevel.AtLeastOnce, cancel, null);

    /// <summary>Publishes a prepared message (with its own properties) without the outbox: false while disconnected or when it fails.</summary>
    public async Task<bool> PublishMessageAsync(MqttApplicationMessage message, CancellationToken cancel)
    {
        if (!_client.IsConnected) return false;
        try { return (await _client.PublishAsync(message, cancel)).IsSuccess; }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> PublishDirectAsync(string topic, byte[] payload, MqttQualityOfServiceLevel qos, CancellationToken cancel,
        string? frameId)
    {
        if (!_client.IsConnected) return false;
        int properties = frameId is null ? 0 : 1 + 2 + 7 + 2 + System.Text.Encoding.UTF8.GetByteCount(frameId);
        if (PacketSize(topic, payload.Length, properties) > (_brokerMaximumPacketSize ?? uint.MaxValue))
        {
            _logger.LogDebug("Not publishing {Bytes} bytes on {Topic}: over the broker's maximum packet size", payload.Length, topic);
            return false;
        }
        try
        {
            var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(qos);
            if (frameId is not null) builder.WithUserProperty("frameId", System.Text.Encoding.UTF8.GetBytes(frameId).AsMemory());
            var result = await _client.PublishAsync(builder.Build(), cancel);
            return result.IsSuccess;
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The size of a PUBLISH packet (MQTT 5, with a packet id) with <paramref name="propertyBytes"/> bytes of properties.</summary>
    public static long PacketSize(string topic, long payloadBytes, int propertyBytes)
    {
        static int VarIntLength(long v) => v < 128 ? 1 : v < 16_384 ? 2 : v < 2_097_152 ? 3 : 4;
        long variable = 2 + System.Text.Encoding.UTF8.GetByteCount(topic) + 2 + VarIntLength(propertyBytes) + propertyBytes + payloadBytes;
        return 1 + VarIntLength(variable) + variable;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var broker = _options.Broker;
        if (string.IsNullOrWhiteSpace(broker.Host))
        {
            _logger.LogWarning("No broker configured (Agent:Broker:Host is empty): verdicts are kept in the outbox");
            return;
        }
        // The Will and the first "online" status carry the models: connect once they are loaded (or refused).
        await _models.InitialLoad.WaitAsync(stoppingToken);
        // The registered handlers, resolved now (they publish through this connection, so they cannot be its constructor's).
        _subscriptions = _services.GetServices<IInboundHandler>().SelectMany(h => h.Filters.Select(f => (f, h))).ToList();
        int failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _subscribed = false;
                var result = await _client.ConnectAsync(BuildOptions(), stoppingToken);
                _brokerMaximumPacketSize = result.MaximumPacketSize is > 0 ? result.MaximumPacketSize : null;
                if (result.ResultCode is MqttClientConnectResultCode.NotAuthorized or MqttClientConnectResultCode.BadUserNameOrPassword)
                    throw new MQTTnet.Exceptions.MqttCommunicationException(
                        $"broker rejected the credentials of user '{broker.Username}' ({result.ResultCode}); check Agent:Broker:Username and the " +
                            $"password");
                if (result.ResultCode != MqttClientConnectResultCode.Success)
                    throw new MQTTnet.Exceptions.MqttCommunicationException($"broker refused the connection: {result.ResultCode} " +
                        $"{result.ReasonString}");
                _logger.LogInformation("Connected to MQTT broker {Host}:{Port} as {ClientId} (session {Session}{Limit}); {Pending} message(s) in " +
                    "the outbox",
                    broker.Host, broker.Port, ClientId, result.IsSessionPresent ? "resumed" : "new",
                    _brokerMaximumPacketSize is { } max ? $", broker's maximum packet size {max} bytes" : "", _outbox.Count);
                failures = 0;
                foreach (var (filter, _) in _subscriptions)
                    await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                        .WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), stoppingToken);
                _subscribed = true;
                await PublishStatusAsync("online", stoppingToken);
                await RepublishRecentAsync(stoppingToken);
                await DrainAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) // whatever the network or the broker does, keep trying: the outbox holds the messages
            {
                _connectionLostAt ??= DateTime.UtcNow;
                failures++;
                var delay = Backoff(failures);
                if (failures == 1) _logger.LogWarning("MQTT broker {Host}:{Port} unavailable ({Type}: {Reason}); retrying with backoff up to {Max} " +
                    "ms",
                                                      broker.Host, broker.Port, e.GetType().Name, e.Message, broker.ReconnectMaxMilliseconds);
                else _logger.LogDebug("MQTT reconnect attempt {N} failed ({Reason}); next in {Delay} ms", failures, e.Message,
                    delay.TotalMilliseconds);
                try { await _client.DisconnectAsync(new MqttClientDisconnectOptions(), CancellationToken.None); } catch (Exception) { }
                try { await Task.Delay(delay, stoppingToken); } catch (OperationCanceledException) { break; }
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!_client.IsConnected) return;
        try
        {
            // A clean shutdown says offline itself (the Will only fires on an unexpected disconnect).
            await PublishStatusAsync("offline", cancellationToken);
            var normal = new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build();
            await _client.DisconnectAsync(normal, cancellationToken);
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or InvalidOperationException)
        {
            _logger.LogDebug("Disconnect: {Reason}", e.Message);
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }

    private async Task DrainAsync(CancellationToken cancel)
    {
        while (_client.IsConnected)
        {
            if (_statusDirty) await PublishStatusAsync("online", cancel);
            var message = _outbox.Peek();
            if (message is null)
            {
                await _outbox.WaitAsync(TimeSpan.FromMilliseconds(500), cancel);
                continue;
            }
            const string contentType = "application/json";
            long size = PacketSize(message.Topic, message.Payload.Length, 1 + 2 + contentType.Length);
            if (_brokerMaximumPacketSize is { } max && size > max)
            {
                SetAside(message, $"{size} bytes, over the broker's maximum packet size of {max} bytes");
                continue;
            }
            if (message.Sequence != _headSequence) (_headSequence, _headAttempts) = (message.Sequence, 0);
            if (++_headAttempts > _options.Publishing.MaxPublishAttempts)
            {
                SetAside(message,
                    $"the broker did not take it in {_options.Publishing.MaxPublishAttempts} attempts (it dropped the connection or refused it " +
                        $"each time)");
                continue;
            }
            var publish = new MqttApplicationMessageBuilder().WithTopic(message.Topic).WithPayload(message.Payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType(contentType).Build();
            var result = await _client.PublishAsync(publish, cancel);
            if (result.IsSuccess || result.ReasonCode == MqttClientPublishReasonCode.NoMatchingSubscribers)
            {
                _outbox.Remove(message.Sequence);
                _headAttempts = 0;
                RememberAcknowledged(message);
            }
            else
            {
                // The broker answered and said no (not authorised, quota, ...): try again a few times (a quota
                // passes), then set it aside so that it does not block every later verdict.
                _logger.LogWarning("Broker refused message {Seq} on {Topic}: {Code} {Reason} (attempt {Attempt} of {Max})", message.Sequence,
                    message.Topic, result.ReasonCode, result.ReasonString, _headAttempts, _options.Publishing.MaxPublishAttempts);
                await Task.Delay(TimeSpan.FromMilliseconds(250 * _headAttempts), cancel);
            }
        }
        throw new MQTTnet.Exceptions.MqttCommunicationException("connection lost");
    }

    /// <summary>Keeps what the broker acknowledged in the last RepublishWindowSeconds (at most 1,000 messages or 16 MiB).</summary>
    private void RememberAcknowledged(OutboxMessage message)
    {
        double window = _options.Publishing.RepublishWindowSeconds;
        if (window <= 0) return;
        var now = DateTime.UtcNow;
        _recentlyAcknowledged.Enqueue((now, message.Topic, message.Payload));
        _recentBytes += message.Payload.Length;
        while (_recentlyAcknowledged.Count > 0 && (now - _recentlyAcknowledged.Peek().AckedAt).TotalSeconds > window
               || _recentlyAcknowledged.Count > 1000 || _recentBytes > 16 << 20)
            _recentBytes -= _recentlyAcknowledged.Dequeue().Payload.Length;
    }

    /// <summary>After a lost connection: publishes again what the broker acknowledged just before it was lost.</summary>
    private async Task RepublishRecentAsync(CancellationToken cancel)
    {
        if (_connectionLostAt is not { } lostAt) return;
        var since = lostAt - TimeSpan.FromSeconds(_options.Publishing.RepublishWindowSeconds);
        var again = _recentlyAcknowledged.Where(m => m.AckedAt >= since).ToList();
        foreach (var (_, topic, payload) in again)
            await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType("application/json").Build(), cancel);
        if (again.Count > 0)
            _logger.LogInformation("Published again {Count} message(s) the broker acknowledged in the {Window} s before the connection was lost " +
                                   "(a broker that crashed may not have kept them)", again.Count, _options.Publishing.RepublishWindowSeconds);
        _connectionLostAt = null;
    }

    private void SetAside(OutboxMessage message, string reason)
    {
        _outbox.SetAside(message.Sequence, reason);
        string? frameId = null;
        if (message.Topic == _topics.Verdict)
        {
            try { frameId = Verdict.FromJson(message.Payload)?.FrameId; }
            catch (JsonException) { }
        }
        _logger.LogError("Set aside message {Seq} on {Topic}{Frame}: {Reason}; it is kept in outbox/rejected/ and the rest flow on ({Count} set " +
            "aside so far)",
            message.Sequence, message.Topic, frameId is null ? "" : $" (frame {frameId})", reason, _outbox.SetAsideCount);
        _events.Publish("message-set-aside", reason, new()
        {
            ["topic"] = message.Topic, ["sequence"] = message.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["bytes"] = message.Payload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), ["frameId"] = frameId,
        });
    }

    private async Task PublishStatusAsync(string state, CancellationToken cancel)
    {
        _statusDirty = false;
        var message = new MqttApplicationMessageBuilder().WithTopic(_topics.Status).WithPayload(StatusPayload(state))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag().Build();
        await _client.PublishAsync(message, cancel);
    }

    private byte[] StatusPayload(string state)
    {
        var models = _models.Snapshot();
        object? Model(ModelStore.ModelSummary m)
        {
            var model = new Dictionary<string, object?>
            {
                ["id"] = m.Id, ["product"] = m.Product, ["createdAt"] = m.CreatedAt, ["threshold"] = m.Threshold, ["device"] = m.Device,
                    ["release"] = m.Release,
            };
            if (m.ParentId is not null) model["parent"] = m.ParentId; // extended models only (trainer extend)
            return model;
        }
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            state,
            model = models.Count == 1 ? Model(models[0]) : null,
            models = models.Select(Model).ToArray(),
            version = Version,
            deviceId = _options.DeviceId,
            since = _since,
            devices = _devices.Select(d => new { name = d.Name, ok = d.Problem is null, problem = d.Problem, counters = d.Counters }).ToArray(),
        });
    }

    private string ClientId => string.IsNullOrWhiteSpace(_options.Broker.ClientId) ? $"edgepatchcore-{_options.DeviceId}" : _options.Broker.ClientId;

    private MqttClientOptions BuildOptions()
    {
        var builder = BrokerClientOptions.Base(_options.Broker, ClientId)
            .WithCleanStart(false)
            .WithSessionExpiryInterval(_options.Broker.SessionExpirySeconds)
            .WithMaximumPacketSize(ClientMaximumPacketSize)
            .WithReceiveMaximum((ushort)Math.Clamp(_options.Pipeline.QueueCapacity + _options.Pipeline.MaxBatch, 1, ushort.MaxValue))
            .WithWillTopic(_topics.Status)
            .WithWillPayload(StatusPayload("offline"))
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        return BrokerClientOptions.Secure(builder, _options.Broker, _logger);
    }

    private TimeSpan Backoff(int failures) => BrokerClientOptions.Backoff(_options.Broker, failures);

    private async Task OnMessage(MqttApplicationMessageReceivedEventArgs e)
    {
        foreach (var (filter, handler) in _subscriptions)
        {
            if (MqttTopicFilterComparer.Compare(e.ApplicationMessage.Topic, StripShare(filter)) == MqttTopicFilterCompareResult.IsMatch)
            {
                await handler.HandleAsync(filter, e);
                return;
            }
        }
    }

    private static string StripShare(string filter)
    {
        if (!filter.StartsWith("$share/", StringComparison.Ordinal)) return filter;
        int slash = filter.IndexOf('/', 7);
        return slash < 0 ? filter : filter[(slash + 1)..];
    }
}
