using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// A real mosquitto on a free loopback port, with persistence in a temp folder so that sessions and
/// queued QoS 1 messages survive <see cref="Stop"/> / <see cref="Start"/> like a real broker restart.
/// CI installs it (apt-get install mosquitto); a missing binary fails the test with that hint.
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly TempFolder _folder = new();
    private Process? _process;
    private readonly string[]? _launcher;

    public int Port { get; } = FreePort();
    /// <summary>With a launcher (a private network namespace), the broker also listens here, which the tests can reach from outside it.</summary>
    public string SocketPath => _folder.File("mqtt.sock");

    /// <param name="security">extra listener lines (TLS files, password file), given this broker's folder; null: anonymous plain TCP</param>
    /// <param name="settings">further broker settings (max_packet_size, autosave_on_changes, ...)</param>
    /// <param name="launcher">a program and its arguments that start the broker (ip netns exec NAME): it also listens on <see cref="SocketPath"/></param>
    public MosquittoBroker(Func<TempFolder, string>? security = null, string settings = "", string[]? launcher = null)
    {
        _launcher = launcher;
        File.WriteAllText(_folder.File("mosquitto.conf"),
            $"""
            {(launcher is null ? "" : $"listener 0 {SocketPath}")}
            listener {Port} 127.0.0.1
            {security?.Invoke(_folder) ?? "allow_anonymous true"}
            persistence true
            persistence_location {_folder.Path}/
            autosave_interval 1
            max_queued_messages 100000
            log_dest stderr
            {settings}
            """ + (Environment.UserName == "root" ? "\nuser root\n" : "\n")); // as root, mosquitto would switch to its own user and could not write the store
        Start();
    }

    public static string Binary =>
        new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("mosquitto is not installed: apt-get install -y mosquitto (.ci/run does this)");

    public void Start()
    {
        var start = new ProcessStartInfo(_launcher?[0] ?? Binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in _launcher?.Skip(1).Append(Binary) ?? []) start.ArgumentList.Add(arg);
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(_folder.File("mosquitto.conf"));
        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (_launcher is not null)
                {
                    using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
                    return;
                }
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) { Thread.Sleep(50); }
        }
        throw new InvalidOperationException($"mosquitto did not start on port {Port}");
    }

    /// <summary>A clean broker shutdown (SIGTERM): it saves sessions and queued messages.</summary>
    public void Stop()
    {
        if (_process is null) return;
        Process.Start("kill", $"-TERM {_process.Id}")!.WaitForExit();
        if (!_process.WaitForExit(10_000)) _process.Kill();
        _process.Dispose();
        _process = null;
    }

    /// <summary>A crash (SIGKILL): nothing is saved that was not saved already.</summary>
    public void Kill()
    {
        if (_process is null) return;
        _process.Kill();
        _process.WaitForExit(10_000);
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        try { _process?.Kill(); _process?.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process?.Dispose();
        _folder.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
