using EdgePatchCore.Agent.Hosting;

namespace EdgePatchCore.Agent.ModelStore;

/// <summary>The served models and the watcher that loads and reloads their files.</summary>
public static class ModelStoreRegistration
{
    public static IServiceCollection AddModelStore(this IServiceCollection services)
    {
        services.AddSingleton<ModelStore>();
        services.AddAs<ModelStore, IServedModels>();
        return services.AddHosted<ArtifactWatcher>();
    }
}
