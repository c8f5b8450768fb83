using System.Diagnostics;
using EdgePatchCore.Agent.Health;
using EdgePatchCore.Agent.Pipeline;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;

namespace EdgePatchCore.Tests.Agent;

public class SystemdTests
{
    private static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EdgePatchCore.sln"))) return Path.Combine(dir.FullName, relative);
        throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void Unit_file_passes_systemd_analyze_verify_and_has_the_required_settings()
    {
        var start = new ProcessStartInfo("bash", RepositoryFile("systemd/verify.sh")) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd(), output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0 && error.Length == 0, $"systemd-analyze verify (apt-get install systemd): {error}{output}");
        var unit = File.ReadAllLines(RepositoryFile("systemd/edgepatchcore-agent.service"));
        foreach (var line in new[] { "Type=notify", "WatchdogSec=60", "Restart=on-failure", "User=edgepatchcore", "StateDirectory=edgepatchcore",
                                     "ProtectSystem=strict", "NoNewPrivileges=true", "RestartPreventExitStatus=78" })
            Assert.Contains(line, unit);
    }

    private sealed class RecordingNotifier : ISystemdNotifier
    {
        public int Watchdogs;
        public bool IsEnabled => true;
        public void Notify(ServiceState state) { if (state.ToString() == "WATCHDOG=1") Interlocked.Increment(ref Watchdogs); }
    }

    [Fact]
    public async Task Watchdog_is_fed_only_while_the_scoring_loop_beats()
    {
        var notifier = new RecordingNotifier();
        var metrics = new AgentMetrics();
        using var watchdog = new WatchdogService(notifier, metrics, NullLogger<WatchdogService>.Instance, TimeSpan.FromMilliseconds(600));
        await watchdog.StartAsync(CancellationToken.None);
        for (int i = 0; i < 10; i++) { metrics.Heartbeat(); await Task.Delay(100); }
        int whileAlive = notifier.Watchdogs;
        await Task.Delay(800); // the loop hangs: no heartbeat
        int afterHang = notifier.Watchdogs;
        await Task.Delay(800);
        await watchdog.StopAsync(CancellationToken.None);
        Assert.True(whileAlive >= 3, $"{whileAlive} notifications while alive");
        Assert.Equal(afterHang, notifier.Watchdogs);
    }
}
