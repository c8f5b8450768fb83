namespace EdgePatchCore.Agent.Hosting;

/// <summary>How the feature modules (AddPipeline, AddSparkplug, ...) register their background services.</summary>
public static class HostedServices
{
    /// <summary>A hosted service that other services can also ask for by type.</summary>
    public static IServiceCollection AddHosted<T>(this IServiceCollection services) where T : class, IHostedService
    {
        services.AddSingleton<T>();
        return services.AddHostedService(sp => sp.GetRequiredService<T>());
    }

    /// <summary>A service that is also a consumer of scored frames (registered as both, one instance).</summary>
    public static IServiceCollection AddAs<TService, TAlso>(this IServiceCollection services) where TService : class, TAlso where TAlso : class =>
        services.AddSingleton<TAlso>(sp => sp.GetRequiredService<TService>());
}
