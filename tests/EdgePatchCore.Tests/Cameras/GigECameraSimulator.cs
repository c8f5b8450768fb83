using System.Diagnostics;

namespace EdgePatchCore.Tests.Cameras;

/// <summary>
/// Aravis's GigE Vision camera simulator (arv-fake-gv-camera-0.8, Debian's aravis-tools: real GVCP/GVSP over UDP), listening on 127.0.0.1
/// inside a <see cref="NetworkNamespace"/>; 512 x 512 Mono8 at 25 frames/s. <see cref="Kill"/> and <see cref="Start"/> pull the plug and
/// put it back.
/// </summary>
public sealed class GigECameraSimulator : IDisposable
{
    public const string Binary = "/usr/bin/arv-fake-gv-camera-0.8";
    private readonly NetworkNamespace _network;
    private readonly int _lostPerThousand;
    private readonly string _interface, _serial;
    private Process? _process;

    /// <param name="listen">the interface name or address it answers on</param>
    public GigECameraSimulator(NetworkNamespace network, int lostPerThousand = 0, string listen = "127.0.0.1", string serial = "GV01")
    {
        if (!File.Exists(Binary)) throw new InvalidOperationException("the GigE Vision simulator is missing: apt-get install aravis-tools (.ci/run does this)");
        (_network, _lostPerThousand, _interface, _serial) = (network, lostPerThousand, listen, serial);
        Start();
    }

    public void Start()
    {
        var args = new List<string> { "-i", _interface, "-s", _serial };
        if (_lostPerThousand > 0) args.AddRange(["-r", _lostPerThousand.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        _process = _network.Start(Binary, args);
        Thread.Sleep(300); // it binds its sockets at once; the agent retries anyway
    }

    /// <summary>The camera dies (SIGKILL): no goodbye on the network.</summary>
    public void Kill()
    {
        if (_process is null) return;
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
        _process.Dispose();
        _process = null;
    }

    public void Dispose() => Kill();
}
