using EdgePatchCore.Agent.Configuration;
using Microsoft.Extensions.Options;

namespace EdgePatchCore.Agent.Trust;

/// <summary>What the device trusts: the signing keys and release ledger (model admission), and the nonces of control messages taken.</summary>
public static class TrustRegistration
{
    public static IServiceCollection AddTrust(this IServiceCollection services)
    {
        services.AddSingleton(sp => new ReleaseLedger(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ResolvedStateDirectory));
        services.AddSingleton<ModelAdmission>();
        return services.AddSingleton(sp => new NonceLedger(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ResolvedStateDirectory));
    }
}
