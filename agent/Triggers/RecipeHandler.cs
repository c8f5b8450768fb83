using System.Text.Json;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Mqtt;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>
/// {prefix}/recipe: <c>{"recipe": "gasket"}</c> switches the line's recipe (<c>{"recipe": null}</c>: back to the camera's Product). The PLC
/// publishes it retained, so an agent that restarts is given the current recipe again. Answered on {prefix}/recipe/state (retained): the
/// recipe and the model that will score it, or why none will (its frames are then answered ERROR model-not-loaded).
/// </summary>
public sealed class RecipeHandler(RecipeSelection selection, IServedModels models, BrokerConnection broker, TopicNames topics, AgentEvents events,
                                  ILogger<RecipeHandler> logger) : IInboundHandler
{
    public const string StateSchema = "edgepatchcore.recipe-state/1";

    public IReadOnlyList<string> Filters => [topics.Recipe];

    public async Task HandleAsync(string filter, MqttApplicationMessageReceivedEventArgs message)
    {
        var payload = message.ApplicationMessage.Payload;
        string? recipe = null, problem = null;
        try
        {
            using var json = JsonDocument.Parse(payload);
            if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty("recipe", out var r)
                || r.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                problem = "a recipe message is {\"recipe\": \"<product>\"} or {\"recipe\": null}";
            else recipe = r.GetString();
        }
        catch (JsonException e) { problem = $"not JSON ({e.Message})"; }
        if (problem is null && recipe is not null && PartIds.Problem(recipe) is not null)
            problem = $"recipe must be a string of 1 to {PartIds.MaxLength} printable characters";
        if (problem is not null)
        {
            logger.LogWarning("Recipe refused: {Problem}", problem);
            events.Publish("bad-recipe", problem);
            return;
        }
        selection.Select(recipe);
        var model = recipe is null ? null : models.Snapshot().FirstOrDefault(m => m.Product == recipe);
        string? missing = recipe is not null && model is null
            ? $"no model is loaded for recipe '{recipe}': its parts are answered ERROR model-not-loaded" : null;
        logger.LogInformation("Recipe {Recipe}: {Outcome}", recipe ?? "(the camera's Product)",
                              missing ?? (model is null ? "as configured" : $"model {model.Id}"));
        var state = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["schema"] = StateSchema, ["recipe"] = recipe, ["ok"] = missing is null, ["model"] = model?.Id, ["problem"] = missing,
            ["at"] = DateTimeOffset.UtcNow,
        });
        await broker.PublishMessageAsync(new MqttApplicationMessageBuilder().WithTopic(topics.RecipeState).WithPayload(state).WithRetainFlag()
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithContentType("application/json").Build(), CancellationToken.None);
    }
}
