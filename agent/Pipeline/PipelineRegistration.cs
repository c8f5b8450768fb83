using EdgePatchCore.Agent.Hosting;

namespace EdgePatchCore.Agent.Pipeline;

/// <summary>The scoring pipeline: the queue, the counters, the worker and the chain that hands its frames to the registered sinks.</summary>
public static class PipelineRegistration
{
    public static IServiceCollection AddPipeline(this IServiceCollection services)
    {
        services.AddSingleton<AgentMetrics>();
        services.AddSingleton<DropCounter>();
        services.AddSingleton<FrameQueue>();
        services.AddSingleton<IPipelineCounters, PipelineCounters>();
        services.AddSingleton<SinkChain>();
        return services.AddHosted<ScoringWorker>();
    }
}
