using System.Text.Json;
using EdgePatchCore.Agent.Configuration;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgePatchCore.Agent.Publishing;

/// <summary>
/// The agent's one MQTT 5 session: connects with a Will that marks the device offline, reconnects with
/// capped exponential backoff, publishes the retained status, (re)subscribes the image topics, and
/// drains the outbox in order at QoS 1, deleting each message only after the broker's PUBACK.
/// </summary>
public sealed class BrokerConnection : BackgroundService
{
    private readonly AgentOptions _options;
    private readonly Outbox _outbox;
    private readonly TopicNames _topics;
    private readonly ModelStore.ModelStore _models;
    private readonly ILogger<BrokerConnection> _logger;
    private readonly IMqttClient _client;
    private readonly List<(string Filter, Func<MqttApplicationMessageReceivedEventArgs, Task> Handler)> _subscriptions = [];
    private readonly DateTime _since = DateTime.UtcNow;
    private volatile bool _statusDirty;

    public BrokerConnection(IOptions<AgentOptions> options, Outbox outbox, TopicNames topics, ModelStore.ModelStore models,
                            ILogger<BrokerConnection> logger)
    {
        _options = options.Value;
        _outbox = outbox;
        _topics = topics;
        _models = models;
        _logger = logger;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessage;
        _models.Changed += () => _statusDirty = true;
    }

    public static string Version => typeof(BrokerConnection).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Registers an image topic; call before the host starts. Handlers own acknowledgement.</summary>
    public void Subscribe(string filter, Func<MqttApplicationMessageReceivedEventArgs, Task> handler) => _subscriptions.Add((filter, handler));

    /// <summary>Publishes a message that may be lost (metrics, heat maps): skipped while disconnected.</summary>
    public async Task<bool> PublishTransientAsync(string topic, byte[] payload, CancellationToken cancel, string? frameId = null)
    {
        if (!_client.IsConnected) return false;
        try
        {
            var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtMostOnce);
            if (frameId is not null) builder.WithUserProperty("frameId", System.Text.Encoding.UTF8.GetBytes(frameId).AsMemory());
            await _client.PublishAsync(builder.Build(), cancel);
            return true;
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var broker = _options.Broker;
        if (string.IsNullOrWhiteSpace(broker.Host))
        {
            _logger.LogWarning("No broker configured (Agent:Broker:Host is empty): verdicts are kept in the outbox");
            return;
        }
        int failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var result = await _client.ConnectAsync(BuildOptions(), stoppingToken);
                if (result.ResultCode is MqttClientConnectResultCode.NotAuthorized or MqttClientConnectResultCode.BadUserNameOrPassword)
                    throw new MQTTnet.Exceptions.MqttCommunicationException(
                        $"broker rejected the credentials of user '{broker.Username}' ({result.ResultCode}); check Agent:Broker:Username and the password");
                if (result.ResultCode != MqttClientConnectResultCode.Success)
                    throw new MQTTnet.Exceptions.MqttCommunicationException($"broker refused the connection: {result.ResultCode} {result.ReasonString}");
                _logger.LogInformation("Connected to MQTT broker {Host}:{Port} as {ClientId} (session {Session}); {Pending} message(s) in the outbox",
                    broker.Host, broker.Port, ClientId, result.IsSessionPresent ? "resumed" : "new", _outbox.Count);
                failures = 0;
                foreach (var (filter, _) in _subscriptions)
                    await _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
                        .WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), stoppingToken);
                await PublishStatusAsync("online", stoppingToken);
                await DrainAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) // whatever the network or the broker does, keep trying: the outbox holds the messages
            {
                failures++;
                var delay = Backoff(failures);
                if (failures == 1) _logger.LogWarning("MQTT broker {Host}:{Port} unavailable ({Type}: {Reason}); retrying with backoff up to {Max} ms",
                                                      broker.Host, broker.Port, e.GetType().Name, e.Message, broker.ReconnectMaxMilliseconds);
                else _logger.LogDebug("MQTT reconnect attempt {N} failed ({Reason}); next in {Delay} ms", failures, e.Message, delay.TotalMilliseconds);
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
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), cancellationToken);
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
            var publish = new MqttApplicationMessageBuilder().WithTopic(message.Topic).WithPayload(message.Payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType("application/json").Build();
            var result = await _client.PublishAsync(publish, cancel);
            if (result.IsSuccess || result.ReasonCode == MqttClientPublishReasonCode.NoMatchingSubscribers)
            {
                _outbox.Remove(message.Sequence);
            }
            else
            {
                // The broker answered and said no (not authorised, quota, ...): retrying will not help and
                // would block every later verdict, so log it loudly and move on.
                _logger.LogError("Broker rejected message on {Topic}: {Code} {Reason}; dropping it", message.Topic, result.ReasonCode, result.ReasonString);
                _outbox.Remove(message.Sequence);
            }
        }
        throw new MQTTnet.Exceptions.MqttCommunicationException("connection lost");
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
        object? Model(ModelStore.ModelSummary m) => new { id = m.Id, product = m.Product, createdAt = m.CreatedAt, threshold = m.Threshold, device = m.Device };
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            state,
            model = models.Count == 1 ? Model(models[0]) : null,
            models = models.Select(Model).ToArray(),
            version = Version,
            deviceId = _options.DeviceId,
            since = _since,
        });
    }

    private string ClientId => string.IsNullOrWhiteSpace(_options.Broker.ClientId) ? $"edgepatchcore-{_options.DeviceId}" : _options.Broker.ClientId;

    private MqttClientOptions BuildOptions()
    {
        var b = _options.Broker;
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(b.Host, b.Port)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId(ClientId)
            .WithCleanStart(false)
            .WithSessionExpiryInterval(b.SessionExpirySeconds)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(b.KeepAliveSeconds))
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithWillTopic(_topics.Status)
            .WithWillPayload(StatusPayload("offline"))
            .WithWillRetain(true)
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        var security = new EdgePatchCore.Messaging.BrokerSecurity
        {
            Tls = b.Tls, CaFile = b.CaFile, ClientCertificateFile = b.ClientCertificateFile, ClientKeyFile = b.ClientKeyFile,
            Username = b.Username, Password = b.Password, PasswordFile = b.PasswordFile,
        };
        return security.Apply(builder, b.Host, reason => _logger.LogError("TLS: {Reason}", reason)).Build();
    }

    private TimeSpan Backoff(int failures)
    {
        var b = _options.Broker;
        double ms = Math.Min(b.ReconnectMaxMilliseconds, b.ReconnectMinMilliseconds * Math.Pow(2, Math.Min(failures - 1, 20)));
        return TimeSpan.FromMilliseconds(ms * (0.8 + 0.4 * Random.Shared.NextDouble())); // jitter: a plant's agents do not all reconnect at once
    }

    private async Task OnMessage(MqttApplicationMessageReceivedEventArgs e)
    {
        foreach (var (filter, handler) in _subscriptions)
        {
            if (MqttTopicFilterComparer.Compare(e.ApplicationMessage.Topic, StripShare(filter)) == MqttTopicFilterCompareResult.IsMatch)
            {
                await handler(e);
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
