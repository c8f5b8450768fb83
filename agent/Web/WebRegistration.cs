using Microsoft.Extensions.Options;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Hosting;
using EdgePatchCore.Agent.Pipeline;

namespace EdgePatchCore.Agent.Web;

/// <summary>The live page (Agent:Web:Urls): its recent frames (a best-effort sink), its state and its server.</summary>
public static class WebRegistration
{
    public static IServiceCollection AddWeb(this IServiceCollection services, AgentOptions options)
    {
        services.AddSingleton<IValidateOptions<AgentOptions>, WebOptionsValidation>();
        services.AddSingleton(new RecentFrames(options.Web.Enabled ? options.Web.RecentFrames : 0));
        services.AddSingleton<LiveState>();
        if (!options.Web.Enabled) return services;
        services.AddAs<RecentFrames, IScoredFrameSink>();
        return services.AddHosted<LivePageServer>();
    }
}
