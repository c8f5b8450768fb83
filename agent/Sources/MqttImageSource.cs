using System.Buffers;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Publishing;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Packets;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// Frames as JPEG/PNG payloads on an MQTT topic (optionally a $share/group/... shared subscription).
/// Metadata comes in MQTT 5 user properties: frameId, product, capturedAt (ISO 8601). A message is
/// acknowledged only once its verdict is in the outbox, so with the agent's persistent session the
/// broker redelivers whatever a crash interrupted.
/// </summary>
public sealed class MqttImageSource : IHostedService
{
    private readonly MqttSourceOptions _options;
    private readonly long _maxBytes;
    private readonly FrameQueue _queue;
    private readonly ILogger<MqttImageSource> _logger;
    private long _sequence;

    public MqttImageSource(IOptions<AgentOptions> options, BrokerConnection broker, FrameQueue queue, ILogger<MqttImageSource> logger)
    {
        _options = options.Value.Sources.Mqtt!;
        _maxBytes = options.Value.Limits.MaxFrameBytes;
        _queue = queue;
        _logger = logger;
        broker.Subscribe(_options.Topic, OnMessage);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _logger.LogInformation("Taking frames from MQTT topic {Topic}", _options.Topic);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private Task OnMessage(MqttApplicationMessageReceivedEventArgs e)
    {
        var message = e.ApplicationMessage;
        string? Property(string name) => message.UserProperties?.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))?.ReadValueAsString();
        string id = Property("frameId") ?? $"mqtt-{DateTime.UtcNow:yyyyMMddTHHmmssfff}-{Interlocked.Increment(ref _sequence)}";
        var captured = DateTimeOffset.TryParse(Property("capturedAt"), out var at) ? at : DateTimeOffset.UtcNow;
        long length = message.Payload.Length;
        e.AutoAcknowledge = false;
        _queue.Post(new Frame
        {
            Id = id, Source = "mqtt", Product = Property("product") ?? _options.Product, CapturedAt = captured,
            Bytes = length > _maxBytes ? [] : message.Payload.ToArray(),
            RejectReason = length > _maxBytes ? $"{id}: {length} bytes, over the limit of {_maxBytes}" : null,
            Completion = new Acknowledgement(e),
        });
        return Task.CompletedTask;
    }

    private sealed class Acknowledgement(MqttApplicationMessageReceivedEventArgs message) : IFrameCompletion
    {
        public void Completed(Verdict verdict) => Acknowledge();
        public void Dropped() => Acknowledge(); // counted as dropped; redelivery would only make the backlog worse

        private void Acknowledge() => _ = message.AcknowledgeAsync(CancellationToken.None).ContinueWith(
            t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted); // the connection went away: the broker redelivers
    }
}
