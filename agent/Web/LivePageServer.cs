using EdgePatchCore.Agent.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace EdgePatchCore.Agent.Web;

/// <summary>
/// Serves the live page (Kestrel) inside the agent's process, for as long as the agent's host runs. It is
/// its own small web application so that a page that cannot listen (the port is taken) never stops
/// inspection: the failure is logged and the page tries again every 30 seconds.
/// </summary>
public sealed class LivePageServer(IOptions<AgentOptions> options, LiveState state, ILoggerFactory loggers, ILogger<LivePageServer> logger)
    : BackgroundService
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(30);
    /// <summary>Admitted page clients served at once (a handful of operators and a Prometheus scraper); refused requests do not count.</summary>
    public const int MaxClients = 32;
    /// <summary>Open TCP connections at all (a bound on file descriptors); idle ones are closed after <see cref="HeadersTimeout"/>.</summary>
    public const int MaxConnections = 1024;
    public static readonly TimeSpan HeadersTimeout = TimeSpan.FromSeconds(5);
    private readonly TaskCompletionSource<IReadOnlyList<string>> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The addresses the page listens on (ports resolved), once it does.</summary>
    public Task<IReadOnlyList<string>> Listening => _listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var web = options.Value.Web;
        while (!stoppingToken.IsCancellationRequested)
        {
            WebApplication? app = null;
            try
            {
                app = Build(web, stoppingToken);
                await app.StartAsync(stoppingToken);
                var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
                logger.LogInformation("Live page on {Addresses}{Token}", string.Join(", ", addresses),
                    web.ReadToken().Length > 0 ? " (token required)" : "");
                _listening.TrySetResult(addresses);
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e)
            {
                logger.LogError("The live page cannot listen on {Urls} ({Reason}); inspection goes on without it, retrying in {Seconds} s",
                                web.Urls, e.GetBaseException().Message, RetryInterval.TotalSeconds);
                await Task.Delay(RetryInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            finally
            {
                if (app is not null)
                {
                    using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    try { await app.StopAsync(grace.Token); }
                    catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { }
                    await app.DisposeAsync();
                }
            }
        }
    }

    private WebApplication Build(WebOptions web, CancellationToken stopping)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "edgepatchcore-agent-page", ContentRootPath = AppContext.BaseDirectory, Args = [],
        });
        builder.Configuration.Sources.Clear(); // everything comes from the agent's own options
        builder.Configuration.AddInMemoryCollection();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers); // the agent's logging (journal, console) for the page too
        // The agent's host says "Application started" once; the page's own small host stays quiet about its lifetime.
        builder.Services.Configure<Microsoft.Extensions.Hosting.ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.WebHost.UseUrls([.. web.UrlList]);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = 0; // the page takes no uploads
            k.Limits.MaxConcurrentConnections = MaxConnections;
            k.Limits.RequestHeadersTimeout = HeadersTimeout; // a connection that says nothing goes quickly
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
        });
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton<AgentInstruments>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("edgepatchcore-agent", serviceVersion: Mqtt.BrokerConnection.Version,
                serviceInstanceId: options.Value.DeviceId))
            .WithMetrics(m => m.AddMeter(AgentInstruments.MeterName).AddPrometheusExporter());

        var app = builder.Build();
        _ = app.Services.GetRequiredService<AgentInstruments>(); // creates the instruments
        var guard = new AccessGuard(web.LoopbackOnly, web.ReadToken(), MaxClients, state.Drops);
        app.Use(LivePageEndpoints.SecurityHeaders);
        app.Use(guard.InvokeAsync);
        LivePageEndpoints.Map(app, state, stopping);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
