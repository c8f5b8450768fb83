using System.Text.Json;
using EdgePatchCore.Messaging;

namespace EdgePatchCore.Agent.Publishing;

/// <summary>
/// Operational events for SCADA and operators (model loaded, model refused, ...), published on
/// {prefix}/event through the outbox, so that a refusal is reported even when the broker is away.
/// </summary>
public sealed class AgentEvents(Outbox outbox, TopicNames topics, ILogger<AgentEvents>? logger = null)
{
    /// <summary>Stores the event for publishing; when the outbox cannot be written it is logged instead (an event never fails its caller).</summary>
    public void Publish(string type, string message, Dictionary<string, string?>? details = null)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schema = "edgepatchcore.event/1",
            type,
            at = DateTime.UtcNow,
            message = Text.Cap(message, 1024),
            details = (details ?? new()).ToDictionary(kv => kv.Key, kv => kv.Value is null ? null : Text.Cap(kv.Value, Text.MaxFrameId)),
        });
        try
        {
            outbox.Append(topics.Event, payload);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger?.LogError("Event {Type} could not be stored in the outbox ({Reason}): {Message}", type, e.Message, message);
        }
    }
}

/// <summary>The topics of the MQTT table in docs/agent.md under the configured prefix.</summary>
public sealed record TopicNames(string Prefix)
{
    public string Status => Prefix + "/status";
    public string Verdict => Prefix + "/verdict";
    public string Heatmap => Prefix + "/heatmap";
    public string Metrics => Prefix + "/metrics";
    public string Event => Prefix + "/event";
}
