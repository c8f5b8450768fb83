using EdgePatchCore.Agent.Configuration;
using EdgePatchCore.Agent.Health;
using EdgePatchCore.Agent.ModelStore;
using EdgePatchCore.Agent.Pipeline;
using EdgePatchCore.Agent.Publishing;
using EdgePatchCore.Agent.Sources;
using Microsoft.Extensions.Options;
using EdgePatchCore.Messaging;

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

    private static void AddAgent(IServiceCollection services, IConfiguration configuration)
    {
        var options = ReadOptions(configuration);
        services.AddOptions<AgentOptions>().Configure(o => AgentConfiguration.BindTo(o, configuration)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidation>();
        services.AddSingleton<AgentMetrics>();
        services.AddSingleton(sp => new TopicNames(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ResolvedTopicPrefix));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new Outbox(Path.Combine(o.ResolvedStateDirectory, "outbox"), o.Publishing.OutboxMaxMessages, o.Publishing.OutboxSync,
                              sp.GetRequiredService<ILogger<Outbox>>(), o.Publishing.OutboxMaxBytes);
        });
        services.AddSingleton(sp => new Trust.ReleaseLedger(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ResolvedStateDirectory));
        services.AddSingleton<Trust.ModelAdmission>();
        services.AddSingleton<AgentEvents>();
        services.AddSingleton<ModelStore.ModelStore>();
        services.AddSingleton<FrameQueue>();
        services.AddSingleton(new Web.RecentFrames(options.Web.Enabled ? options.Web.RecentFrames : 0));
        services.AddSingleton<Web.LiveState>();
        services.AddSingleton<Teach.OnDeviceExtender>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new Teach.FrameStore(Path.Combine(o.ResolvedStateDirectory, "frames"), o.Teach.KeepFrames, o.Teach.KeepBytes,
                                        sp.GetRequiredService<ILogger<Teach.FrameStore>>(), o.Teach.KeepRejects);
        });
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new Teach.TeachSet(Path.Combine(o.ResolvedStateDirectory, "teach"), o.Teach.MaxTaught, o.Teach.MaxTaughtBytes);
        });
        services.AddSingleton(sp => new Trust.NonceLedger(sp.GetRequiredService<IOptions<AgentOptions>>().Value.ResolvedStateDirectory));
        services.AddSingleton<DropCounter>();
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return new Sparkplug.SparkplugFeed(!o.Sparkplug.Enabled ? null : new Outbox(Path.Combine(o.ResolvedStateDirectory, "sparkplug", "outbox"),
                o.Publishing.OutboxMaxMessages, o.Publishing.OutboxSync, sp.GetRequiredService<ILogger<Outbox>>(), o.Publishing.OutboxMaxBytes));
        });
        AddHosted<ArtifactWatcher>(services);
        AddHosted<BrokerConnection>(services);
        if (!string.IsNullOrWhiteSpace(options.Broker.Host)) AddHosted<Deployment.DeployService>(services);
        if (!string.IsNullOrWhiteSpace(options.Broker.Host)) AddHosted<Teach.TeachService>(services);
        if (options.Sources.Mqtt is not null) AddHosted<MqttImageSource>(services);
        if (options.Sources.Folder is not null) AddHosted<FolderSource>(services);
        if (options.Sources.Mjpeg is not null) AddHosted<MjpegSource>(services);
        if (options.Sources.Http is not null)
        {
            services.AddHttpClient(HttpSnapshotSource.ClientName, (sp, http) =>
            {
                var o = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
                http.Timeout = TimeSpan.FromMilliseconds(o.Sources.Http!.TimeoutMilliseconds);
                http.MaxResponseContentBufferSize = o.Limits.MaxFrameBytes;
            });
            AddHosted<HttpSnapshotSource>(services);
        }
        AddHosted<Teach.FrameKeeper>(services);
        AddHosted<ScoringWorker>(services);
        AddHosted<MetricsPublisher>(services);
        if (options.Web.Enabled) AddHosted<Web.LivePageServer>(services);
        if (options.Sparkplug.Enabled) AddHosted<Sparkplug.SparkplugEdgeNode>(services);
        if (Microsoft.Extensions.Hosting.Systemd.SystemdHelpers.IsSystemdService()) AddHosted<WatchdogService>(services);
    }

    /// <summary>A hosted service that other services can also ask for by type.</summary>
    private static void AddHosted<T>(IServiceCollection services) where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(sp => sp.GetRequiredService<T>());
    }
}
