using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Hosting;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Messaging;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Mqtt;

/// <summary>MQTT: the JSON topics' outbox and its sink (durable, registered first), the broker connection and its inbound handlers, metrics, heat
/// maps.</summary>
public static class MqttRegistration
{
    public static IServiceCollection AddMqtt(this IServiceCollection services, AgentOptions options)
    {
        services.AddSingleton(sp => new TopicNames(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ResolvedTopicPrefix));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new Outbox(Path.Combine(o.ResolvedStateDirectory, "outbox"), o.Publishing.OutboxMaxMessages, o.Publishing.OutboxSync,
                              sp.GetRequiredService<ILogger<Outbox>>(), o.Publishing.OutboxMaxBytes);
        });
        services.AddSingleton<AgentEvents>();
        services.AddHosted<BrokerConnection>();
        services.AddAs<BrokerConnection, ITransientPublisher>();
        services.AddHosted<MetricsPublisher>();
        // Durable, first: every verdict into the outbox for {prefix}/verdict, which the broker connection drains.
        services.AddSingleton<IScoredFrameSink>(sp => new OutboxSink(sp.GetRequiredService<Outbox>(), sp.GetRequiredService<TopicNames>().Verdict));
        if (options.Publishing.Heatmaps) services.AddSingleton<IScoredFrameSink, HeatmapPublisher>();
        return services;
    }
}
