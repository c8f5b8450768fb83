using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Hosting;
using EdgePatchCore.Agent.Messages;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Messaging;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Publishing;

/// <summary>The JSON topics: the outbox and its sink (durable, registered first), the broker connection, metrics, heat maps.</summary>
public static class PublishingRegistration
{
    public static IServiceCollection AddPublishing(this IServiceCollection services, AgentOptions options)
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
        services.AddSingleton<IScoredFrameSink, VerdictOutboxSink>();
        if (options.Publishing.Heatmaps) services.AddSingleton<IScoredFrameSink, HeatmapPublisher>();
        return services;
    }
}
