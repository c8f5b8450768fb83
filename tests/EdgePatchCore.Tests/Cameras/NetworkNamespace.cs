using System.Diagnostics;

namespace EdgePatchCore.Tests.Cameras;

/// <summary>
/// A private network namespace with only loopback up (ip netns add): the camera simulator, the broker and the agent run inside it, so no
/// packet of the camera tests can leave the machine. Needs root (CI runs as root) or passwordless sudo.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    public string Name { get; } = "epc-" + Guid.NewGuid().ToString("N")[..8];

    public NetworkNamespace()
    {
        Ip("netns", "add", Name);
        Ip("-n", Name, "link", "set", "lo", "up");
    }

    /// <summary>The command prefix that runs a program inside this namespace.</summary>
    public string[] Launcher => [.. Sudo, "ip", "netns", "exec", Name];

    private static string[] Sudo => Environment.UserName == "root" ? [] : ["sudo", "-n"];

    /// <summary>Starts <paramref name="program"/> inside the namespace, its output collected in <paramref name="output"/>.</summary>
    public Process Start(string program, IEnumerable<string> arguments, System.Collections.Concurrent.ConcurrentQueue<string>? output = null)
    {
        var start = new ProcessStartInfo(Launcher[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in Launcher.Skip(1).Append(program).Concat(arguments)) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output?.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output?.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Another loopback address (127.0.0.N) on this namespace's lo, for a second camera.</summary>
    public void AddLoopbackAddress(string address) => Ip("-n", Name, "addr", "add", address + "/8", "dev", "lo");

    private static void Ip(params string[] arguments)
    {
        string[] command = [.. Sudo, "ip", .. arguments];
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in command.Skip(1)) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({error.Trim()}): the camera tests need root or passwordless sudo");
    }

    public void Dispose()
    {
        try { Ip("netns", "delete", Name); }
        catch (InvalidOperationException) { } // already gone
    }
}
