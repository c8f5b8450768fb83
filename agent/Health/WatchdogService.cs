using EdgePatchCore.Agent.Pipeline;
using Microsoft.Extensions.Hosting.Systemd;

namespace EdgePatchCore.Agent.Health;

/// <summary>
/// Feeds systemd's watchdog (WatchdogSec in the unit) while the scoring loop is alive: if the loop hangs
/// (a stuck native call, a deadlock), the notifications stop and systemd restarts the service.
/// </summary>
public sealed class WatchdogService(ISystemdNotifier notifier, AgentMetrics metrics, ILogger<WatchdogService> logger, TimeSpan? interval)
    : BackgroundService
{
    /// <summary>systemd passes WatchdogSec as WATCHDOG_USEC; null when the unit sets none.</summary>
    private static TimeSpan? FromEnvironment() =>
        long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out long usec) && usec > 0 ? TimeSpan.FromMicroseconds(usec) : null;

    public WatchdogService(ISystemdNotifier notifier, AgentMetrics metrics, ILogger<WatchdogService> logger) : this(notifier, metrics, logger,
        FromEnvironment()) { }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled || interval is not { } limit) return; // not under systemd, or no WatchdogSec
        logger.LogInformation("systemd watchdog: {Seconds} s", limit.TotalSeconds);
        using var timer = new PeriodicTimer(limit / 3);
        bool stalled = false;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (metrics.SinceHeartbeat < limit / 2)
            {
                notifier.Notify(new ServiceState("WATCHDOG=1"));
                stalled = false;
            }
            else if (!stalled)
            {
                stalled = true;
                logger.LogError("Scoring loop has not made progress for {Seconds:F0} s; withholding the watchdog notification",
                    metrics.SinceHeartbeat.TotalSeconds);
            }
        }
    }
}
