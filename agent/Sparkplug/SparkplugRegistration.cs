using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Hosting;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Messaging;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Sparkplug;

/// <summary>Agent:Sparkplug:Enabled: the edge node, its own outbox and its durable sink (after the JSON outbox's).</summary>
public static class SparkplugRegistration
{
    public static IServiceCollection AddSparkplug(this IServiceCollection services, AgentOptions options)
    {
        services.AddSingleton<IValidateOptions<AgentOptions>, SparkplugOptionsValidation>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new SparkplugFeed(!o.Sparkplug.Enabled ? null : new Outbox(Path.Combine(o.ResolvedStateDirectory, "sparkplug", "outbox"),
                o.Publishing.OutboxMaxMessages, o.Publishing.OutboxSync, sp.GetRequiredService<ILogger<Outbox>>(), o.Publishing.OutboxMaxBytes));
        });
        if (!options.Sparkplug.Enabled) return services;
        // Durable, after the JSON outbox: the edge node's own outbox, a defect's heat map kept first for the DDATA that reports it.
        services.AddSingleton<IScoredFrameSink>(sp =>
        {
            var feed = sp.GetRequiredService<SparkplugFeed>();
            return new OutboxSink(feed.Outbox!, SparkplugFeed.Topic, usesHeatmaps: true, before: feed.KeepHeatmap);
        });
        services.AddSingleton<Triggers.IAnswerSink, SparkplugAnswerSink>(); // the handshake's answers, when a camera is triggered
        return services.AddHosted<SparkplugEdgeNode>();
    }
}
