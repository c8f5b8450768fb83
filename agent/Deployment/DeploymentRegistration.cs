using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Hosting;

namespace EdgePatchCore.Agent.Deployment;

/// <summary>Over-the-air deployment (`trainer deploy`), with a broker.</summary>
public static class DeploymentRegistration
{
    public static IServiceCollection AddDeployment(this IServiceCollection services, AgentOptions options) =>
        string.IsNullOrWhiteSpace(options.Broker.Host) ? services : services.AddHosted<DeployService>().AddAs<DeployService, IInboundHandler>();
}
