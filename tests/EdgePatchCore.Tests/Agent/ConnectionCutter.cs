using System.Net;
using System.Net.Sockets;

namespace EdgePatchCore.Tests.Agent;

/// <summary>
/// A TCP forwarder on a free loopback port in front of a broker, for faults a client cannot tell from a
/// crash: <see cref="Cut"/> closes every forwarded connection at once (both sides see the socket close,
/// as when the broker dies) and refuses new ones until <see cref="Restore"/>.
/// </summary>
public sealed class ConnectionCutter : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly List<TcpClient> _open = [];
    private readonly CancellationTokenSource _stop = new();
    private bool _refusing;

    public int Port { get; }

    public ConnectionCutter(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Closes every forwarded connection and refuses new ones.</summary>
    public void Cut()
    {
        lock (_open)
        {
            _refusing = true;
            foreach (var client in _open) client.Close();
            _open.Clear();
        }
    }

    /// <summary>Forwards new connections again.</summary>
    public void Restore()
    {
        lock (_open) _refusing = false;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient downstream;
            try { downstream = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => ForwardAsync(downstream));
        }
    }

    private async Task ForwardAsync(TcpClient downstream)
    {
        var upstream = new TcpClient();
        try
        {
            lock (_open) if (_refusing) { downstream.Close(); upstream.Dispose(); return; }
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
            lock (_open)
            {
                if (_refusing) { downstream.Close(); upstream.Close(); return; }
                _open.Add(downstream);
                _open.Add(upstream);
            }
            var a = downstream.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
            var b = upstream.GetStream().CopyToAsync(downstream.GetStream(), _stop.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception) { } // a cut or a broker that is down: the client sees its connection close
        finally
        {
            downstream.Close();
            upstream.Close();
            lock (_open) { _open.Remove(downstream); _open.Remove(upstream); }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
    }
}
