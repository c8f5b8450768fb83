using System.Text.Json;

namespace EdgePatchCore.Agent.Publishing;

/// <summary>
/// Operational events for SCADA and operators (model loaded, model refused, ...), published on
/// {prefix}/event through the outbox, so that a refusal is reported even when the broker is away.
/// </summary>
public sealed class AgentEvents(Outbox outbox, TopicNames topics)
{
    public void Publish(string type, string message, Dictionary<string, string?>? details = null)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new
        {
            schema = "edgepatchcore.event/1",
            type,
            at = DateTime.UtcNow,
            message,
            details = details ?? new(),
        });
        outbox.Append(topics.Event, payload);
    }
}

/// <summary>The topics of DESIGN section 10 under the configured prefix.</summary>
public sealed record TopicNames(string Prefix)
{
    public string Status => Prefix + "/status";
    public string Verdict => Prefix + "/verdict";
    public string Heatmap => Prefix + "/heatmap";
    public string Metrics => Prefix + "/metrics";
    public string Event => Prefix + "/event";
}
