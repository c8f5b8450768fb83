using System.Text.Json;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Mqtt;
using MQTTnet;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>
/// {prefix}/trigger: <c>{"partId": "P-0001", "recipe": "gasket"}</c> (recipe optional: the product whose model scores the part). A message
/// without a usable part id cannot be answered on {prefix}/result: it is reported on {prefix}/event (bad-trigger).
/// </summary>
public sealed class TriggerHandler(TriggerBook book, TopicNames topics, AgentEvents events, ILogger<TriggerHandler> logger) : IInboundHandler
{
    public IReadOnlyList<string> Filters => [topics.Trigger];

    public Task HandleAsync(string filter, MqttApplicationMessageReceivedEventArgs message)
    {
        var payload = message.ApplicationMessage.Payload;
        string? partId = null, recipe = null, problem = null;
        try
        {
            using var json = JsonDocument.Parse(payload);
            if (json.RootElement.ValueKind != JsonValueKind.Object) problem = "a trigger is a JSON object";
            else
            {
                if (json.RootElement.TryGetProperty("partId", out var p) && p.ValueKind == JsonValueKind.String) partId = p.GetString();
                if (json.RootElement.TryGetProperty("recipe", out var r) && r.ValueKind == JsonValueKind.String) recipe = r.GetString();
            }
        }
        catch (JsonException e) { problem = $"not JSON ({e.Message})"; }
        problem ??= PartIds.Problem(partId);
        if (problem is not null)
        {
            logger.LogWarning("Trigger refused: {Problem}", problem);
            events.Publish("bad-trigger", problem, new() { ["partId"] = partId is null ? null : Text.Cap(partId, PartIds.MaxLength) });
            return Task.CompletedTask;
        }
        book.Trigger(partId!, string.IsNullOrWhiteSpace(recipe) ? null : recipe);
        return Task.CompletedTask;
    }
}
