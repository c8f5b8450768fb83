using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Deployment;
using EdgePatchCore.Agent.Health;
using EdgePatchCore.Agent.Hosting;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Mqtt;
using EdgePatchCore.Agent.Sources;
using EdgePatchCore.Agent.Sparkplug;
using EdgePatchCore.Agent.Teach;
using EdgePatchCore.Agent.Triggers;
using EdgePatchCore.Agent.Trust;
using EdgePatchCore.Agent.Web;
using Microsoft.Extensions.Options;
using EdgePatchCore.Agent.Messages;

namespace EdgePatchCore.Agent;

/// <summary>Builds the agent's host: configuration sources in order of precedence, and the services.</summary>
public static class AgentHost
{
    public const string DefaultConfigFile = "/etc/edgepatchcore/agent.json";

    /// <summary>
    /// Configuration, lowest precedence first: appsettings.json next to the program, the config file
    /// (<paramref name="configFile"/>, else /etc/edgepatchcore/agent.json when present), EDGEPATCHCORE__*
    /// environment variables, <paramref name="overrides"/>, the command line (--Agent:Key=value).
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string[] args, string? configFile = null, IDictionary<string, string?>? overrides = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args, ContentRootPath = AppContext.BaseDirectory, ApplicationName = "edgepatchcore-agent",
            DisableDefaults = false,
        });
        var sources = builder.Configuration.Sources;
        sources.Clear();
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        builder.Configuration.AddJsonFile(Path.GetFullPath(configFile ?? DefaultConfigFile), optional: configFile is null, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables("EDGEPATCHCORE__");
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        builder.Configuration.AddCommandLine(args);
        builder.Services.AddSystemd();
        AddAgent(builder.Services, builder.Configuration);
        return builder;
    }

    /// <summary>The options as configured, for validation before the host starts.</summary>
    public static AgentOptions ReadOptions(IConfiguration configuration) => AgentConfiguration.Read(configuration);

    /// <summary>
    /// The agent, feature by feature: each module registers its own services, and the consumers of scored frames it
    /// brings (<see cref="Pipeline.IScoredFrameSink"/>). Durable sinks are called in this order: the JSON outbox
    /// (publishing), then Sparkplug's.
    /// </summary>
    private static void AddAgent(IServiceCollection services, IConfiguration configuration)
    {
        var options = ReadOptions(configuration);
        services.AddOptions<AgentOptions>().Configure(o => AgentConfiguration.BindTo(o, configuration)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidation>();
        services.AddTrust();
        services.AddModelStore();
        services.AddPipeline();
        services.AddMqtt(options);
        services.AddSparkplug(options);
        services.AddTeach(options);
        services.AddWeb(options);
        services.AddDeployment(options);
        services.AddTriggers(options);
        services.AddSources(options);
        services.AddSingleton<IValidateOptions<AgentOptions>, SourceCountValidation>();
        if (Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService()) services.AddHosted<WatchdogService>();
    }
}
