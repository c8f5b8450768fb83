using System.Buffers;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using Microsoft.Extensions.Options;
using MQTTnet;
using MQTTnet.Packets;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent.Sources;

/// <summary>
/// Frames as JPEG/PNG payloads on an MQTT topic (optionally a $share/group/... shared subscription).
/// Metadata comes in MQTT 5 user properties: frameId, product, capturedAt (ISO 8601). A message is
/// acknowledged only once its verdict is in the outbox, so with the agent's persistent session the
/// broker redelivers whatever a crash interrupted. A frame without a frameId gets one derived from its
/// payload's SHA-256 ("mqtt-" + 16 hex digits), so a redelivery carries the same id and consumers can
/// de-duplicate; identical payloads share an id.
/// </summary>
public sealed class MqttImageSource : IHostedService, IInboundHandler
{
    /// <summary>The frame topic (Agent:Sources:Mqtt:Topic).</summary>
    public IReadOnlyList<string> Filters { get; }

    public Task HandleAsync(string filter, MqttApplicationMessageReceivedEventArgs message) => OnMessage(message);

    private readonly MqttSourceOptions _options;
    private readonly long _maxBytes;
    private readonly FrameQueue _queue;
    private readonly ILogger<MqttImageSource> _logger;

    public MqttImageSource(IOptions<AgentOptions> options, FrameQueue queue, ILogger<MqttImageSource> logger)
    {
        _options = options.Value.Sources.Mqtt!;
        _maxBytes = options.Value.Limits.MaxFrameBytes;
        _queue = queue;
        _logger = logger;
        Filters = [_options.Topic];
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
        string? Property(string name) => message.UserProperties?.FirstOrDefault(p => string.Equals(p.Name, name,
            StringComparison.OrdinalIgnoreCase))?.ReadValueAsString();
        long length = message.Payload.Length;
        byte[] bytes = length > _maxBytes ? [] : message.Payload.ToArray();
        string id = Text.FrameId(Property("frameId"))
                    ?? "mqtt-"
                        + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes.Length > 0 ? bytes : message.Payload.ToArray()), 0,
                        8).ToLowerInvariant();
        var captured = DateTimeOffset.TryParse(Property("capturedAt"), out var at) ? at : DateTimeOffset.UtcNow;
        string? product = Property("product") is { } p ? Text.Cap(p, 128) : _options.Product;
        e.AutoAcknowledge = false;
        _queue.Post(new Frame
        {
            Id = id, Source = "mqtt", Product = product, CapturedAt = captured, Bytes = bytes,
            RejectReason = length > _maxBytes ? $"{id}: {length} bytes, over the limit of {_maxBytes}" : null,
            Completion = new MqttAcknowledgement(e, _logger),
        });
        return Task.CompletedTask;
    }
}
