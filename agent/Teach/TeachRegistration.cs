using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Hosting;
using EdgePatchCore.Agent.Pipeline;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Teach;

/// <summary>Teaching: the kept frames (a best-effort sink), the teach set, on-device extension and, with a broker, the teach and collect
/// topics.</summary>
public static class TeachRegistration
{
    public static IServiceCollection AddTeach(this IServiceCollection services, AgentOptions options)
    {
        services.AddSingleton<IValidateOptions<AgentOptions>, TeachOptionsValidation>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new FrameStore(Path.Combine(o.ResolvedStateDirectory, "frames"), o.Teach.KeepFrames, o.Teach.KeepBytes,
                                  sp.GetRequiredService<ILogger<FrameStore>>(), o.Teach.KeepRejects);
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new TeachSet(Path.Combine(o.ResolvedStateDirectory, "teach"), o.Teach.MaxTaught, o.Teach.MaxTaughtBytes);
        });
        services.AddSingleton<OnDeviceExtender>();
        services.AddHosted<FrameKeeper>().AddAs<FrameKeeper, IScoredFrameSink>();
        if (!string.IsNullOrWhiteSpace(options.Broker.Host)) services.AddHosted<TeachService>().AddAs<TeachService, IInboundHandler>();
        return services;
    }
}
