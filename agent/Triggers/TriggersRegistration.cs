using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Hosting;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Pipeline;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Triggers;

/// <summary>The inspection handshake, when a camera is triggered (Agent:Sources:GenICam:TriggerSource): the ledger, {prefix}/trigger
/// (software triggers), {prefix}/recipe, the results' sink and the deadline loop.</summary>
public static class TriggersRegistration
{
    public static IServiceCollection AddTriggers(this IServiceCollection services, AgentOptions options)
    {
        services.AddSingleton<IValidateOptions<AgentOptions>, TriggersOptionsValidation>();
        if (string.IsNullOrWhiteSpace(options.Sources.GenICam?.TriggerSource)) return services;
        services.AddSingleton<TriggerBook>();
        services.AddSingleton<IAnswerSink>(sp => new OutboxAnswerSink(sp.GetRequiredService<Messaging.Outbox>(),
                                                                      sp.GetRequiredService<Messages.TopicNames>()));
        services.AddSingleton<IScoredFrameSink, ResultSink>();
        services.AddSingleton<TriggerHandler>().AddAs<TriggerHandler, IInboundHandler>(); // a broker is required (TriggersOptionsValidation)
        services.AddSingleton<RecipeSelection>();
        services.AddSingleton<RecipeHandler>().AddAs<RecipeHandler, IInboundHandler>();
        return services.AddHosted<TriggerDeadlines>();
    }
}
