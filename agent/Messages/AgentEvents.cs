using System.Text.Json;
using EdgePatchCore.Messaging;

namespace EdgePatchCore.Agent.Messages;

/// <summary>
/// Operational events for SCADA and operators (model loaded, model refused, ...) on {prefix}/event, schema
/// edgepatchcore.event/1, built here and nowhere else: <see cref="Publish"/> goes through the outbox, so that a refusal
/// is reported even when the broker is away; what the outbox itself cannot carry (the outbox is failing) is sent with
/// <see cref="Json"/> straight through an <see cref="ITransientPublisher"/>.
/// </summary>
public sealed class AgentEvents(Outbox outbox, TopicNames topics, ILogger<AgentEvents>? logger = null)
{
    /// <summary>An event's message is cut to this many characters, each detail to <see cref="Text.MaxFrameId"/>.</summary>
    public const int MaxMessage = 1024;

    /// <summary>Stores the event for publishing; when the outbox cannot be written it is logged instead (an event never fails its caller).</summary>
    public void Publish(string type, string message, Dictionary<string, string?>? details = null)
    {
        try
        {
            outbox.Append(topics.Event, Json(type, message, details));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger?.LogError("Event {Type} could not be stored in the outbox ({Reason}): {Message}", type, e.Message, message);
        }
    }

    /// <summary>The event's JSON: schema, type, time, message and details, each capped.</summary>
    public static byte[] Json(string type, string message, Dictionary<string, string?>? details) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        schema = "edgepatchcore.event/1",
        type,
        at = DateTime.UtcNow,
        message = Text.Cap(message, MaxMessage),
        details = (details ?? new()).ToDictionary(kv => kv.Key, kv => kv.Value is null ? null : Text.Cap(kv.Value, Text.MaxFrameId)),
    });
}
