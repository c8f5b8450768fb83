using System.Buffers;
using System.Text.Json;
using EdgePatchCore.Agent.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Tests.Agent;

public sealed record ReceivedMessage(string Topic, byte[] Payload, bool Retained)
{
    public JsonElement Json => JsonDocument.Parse(Payload).RootElement;
}

/// <summary>
/// The SCADA side of the tests: a subscriber with a persistent MQTT 5 session on {prefix}/#, reconnecting
/// on its own, that records everything it receives.
/// </summary>
public sealed class MqttProbe : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly List<ReceivedMessage> _messages = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly MqttClientOptions _options;
    private readonly string _filter;
    private Task? _reconnect;

    public MqttProbe(int port, string filter, Action<MqttClientOptionsBuilder>? security = null)
        : this(b => b.WithTcpServer("127.0.0.1", port), filter, security)
    {
    }

    /// <summary>A probe that reaches its broker through a unix socket (a broker inside a private network namespace).</summary>
    public static MqttProbe ViaSocket(string socketPath, string filter) =>
        new(b => b.WithEndPoint(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath)).WithProtocolType(System.Net.Sockets.ProtocolType.Unspecified)
                .WithAddressFamily(System.Net.Sockets.AddressFamily.Unix),
            filter, null);

    private MqttProbe(Action<MqttClientOptionsBuilder> endpoint, string filter, Action<MqttClientOptionsBuilder>? security)
    {
        _filter = filter;
        var builder = new MqttClientOptionsBuilder();
        endpoint(builder);
        builder
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithClientId("probe-" + Guid.NewGuid().ToString("N")[..8]).WithCleanStart(false).WithSessionExpiryInterval(3600);
        security?.Invoke(builder);
        _options = EdgePatchCore.Messaging.SocketBuffers.WithLargeSocketBuffers(builder.Build());
        _client.ApplicationMessageReceivedAsync += e =>
        {
            lock (_messages) _messages.Add(new(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray(), e.ApplicationMessage.Retain));
            return Task.CompletedTask;
        };
    }

    public async Task StartAsync()
    {
        await _client.ConnectAsync(_options);
        await SubscribeAsync();
        _reconnect = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    if (!_client.IsConnected)
                    {
                        var result = await _client.ConnectAsync(_options, _stop.Token); // the session (and subscription) is resumed
                        if (!result.IsSessionPresent) await SubscribeAsync();
                    }
                }
                catch (Exception) when (!_stop.IsCancellationRequested) { }
                try { await Task.Delay(200, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    private Task SubscribeAsync() =>
        _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(_filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public List<ReceivedMessage> Messages(string topicSuffix)
    {
        lock (_messages) return _messages.Where(m => m.Topic.EndsWith(topicSuffix, StringComparison.Ordinal)).ToList();
    }

    public List<Verdict> Verdicts() => Messages("/verdict").Select(m => Verdict.FromJson(m.Payload)!).ToList();

    public async Task<bool> WaitForAsync(Func<MqttProbe, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition(this)) return true;
            await Task.Delay(50);
        }
        return condition(this);
    }

    public async Task PublishAsync(string topic, byte[] payload, params (string Name, string Value)[] properties)
    {
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        foreach (var (name, value) in properties) builder.WithUserProperty(name, System.Text.Encoding.UTF8.GetBytes(value).AsMemory());
        await _client.PublishAsync(builder.Build());
    }

    public Task PublishRetainedAsync(string topic, byte[] payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(true).Build());

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_reconnect is not null) await _reconnect;
        try { await _client.DisconnectAsync(); } catch (Exception) { }
        _client.Dispose();
    }
}
