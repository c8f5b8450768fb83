using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;

namespace EdgePatchCore.Agent.Cameras;

/// <summary>
/// GigE Vision discovery (GVCP DISCOVERY_CMD) on one named network interface only: the broadcast (255.255.255.255, which cameras listen
/// for) leaves from a socket bound to that interface's address, and to the interface itself where the process may (SO_BINDTODEVICE), so
/// it goes out of that interface alone (Linux sends a limited broadcast out of the interface that owns the source address). Used to find a
/// camera by serial number or user-defined name; a camera given by address is opened directly and nothing is broadcast.
/// </summary>
public static class GigEDiscovery
{
    public const int GvcpPort = 3956;
    /// <summary>One answer to the discovery: where the camera is and what it says it is.</summary>
    public sealed record FoundCamera(IPAddress Address, string Manufacturer, string Model, string Serial, string UserDefinedName);

    /// <summary>Every camera that answers on <paramref name="interfaceName"/> within <paramref name="listen"/>, with this host's address
    /// there.</summary>
    public static (IReadOnlyList<FoundCamera> Cameras, IPAddress Local) OnInterface(string interfaceName, TimeSpan listen)
    {
        var (local, prefix) = Interface(interfaceName);
        try { return Discover(interfaceName, local, prefix, listen); }
        catch (SocketException e) { throw new CameraException($"discovery on {interfaceName} failed: {e.Message}"); }
    }

    private static (IReadOnlyList<FoundCamera> Cameras, IPAddress Local) Discover(string interfaceName, IPAddress local, int prefix,
                                                                                   TimeSpan listen)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { EnableBroadcast = true };
        try { socket.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(interfaceName + "\0")); }
        catch (SocketException) { } // without CAP_NET_RAW: the bound source address keeps it on the interface
        socket.Bind(new IPEndPoint(local, 0));
        // GVCP header: CMD key 0x42, flags ack-required | allow-broadcast-ack, command DISCOVERY_CMD (2), length 0, request id.
        byte[] command = [0x42, 0x11, 0x00, 0x02, 0x00, 0x00, 0xff, 0xff];
        socket.SendTo(command, new IPEndPoint(IPAddress.Broadcast, GvcpPort));
        var found = new Dictionary<IPAddress, FoundCamera>();
        var until = DateTime.UtcNow + listen;
        var buffer = new byte[1500];
        while (DateTime.UtcNow < until)
        {
            socket.ReceiveTimeout = Math.Max(1, (int)(until - DateTime.UtcNow).TotalMilliseconds);
            try
            {
                int n = socket.Receive(buffer);
                // A copy of the broadcast also reaches cameras simulated on this host (loopback): only the interface's subnet counts.
                if (Parse(buffer.AsSpan(0, n)) is { } camera && CameraAddress.SameSubnet(camera.Address, local, prefix))
                    found[camera.Address] = camera;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut) { break; }
        }
        return (found.Values.OrderBy(c => c.Address.ToString(), StringComparer.Ordinal).ToList(), local);
    }

    /// <summary>The camera on <paramref name="interfaceName"/> whose serial number or user-defined name is <paramref name="serialOrName"/>.</summary>
    public static (IPAddress Camera, IPAddress Local) Find(string interfaceName, string serialOrName, TimeSpan listen)
    {
        var (cameras, local) = OnInterface(interfaceName, listen);
        var match = cameras.Where(c => c.Serial == serialOrName || c.UserDefinedName == serialOrName).ToList();
        return match.Count switch
        {
            1 => (match[0].Address, local),
            0 => throw new CameraException($"no camera with serial number or name '{serialOrName}' answered on {interfaceName}" + (cameras.Count == 0
                ? " (none answered)" : $" ({string.Join(", ", cameras.Select(c => $"{c.Serial} at {c.Address}"))} did)")),
            _ => throw new CameraException($"{match.Count} cameras on {interfaceName} answer to '{serialOrName}': give the address"),
        };
    }

    /// <summary>A DISCOVERY_ACK (8-byte header, then the 248 bytes of the camera's bootstrap registers); null for anything else.</summary>
    private static FoundCamera? Parse(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 8 + 0xf8 || BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != 0x0003) return null;
        var data = packet[8..];
        return new FoundCamera(new IPAddress(data.Slice(0x24, 4)), Text(data.Slice(0x48, 32)), Text(data.Slice(0x68, 32)), Text(data.Slice(0xd8, 16)),
                               Text(data.Slice(0xe8, 16)));
    }

    /// <summary>A NUL-padded ASCII register.</summary>
    private static string Text(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? field : field[..end]).Trim();
    }

    private const int SolSocket = 1, SoBindToDevice = 25; // Linux <sys/socket.h>

    private static (IPAddress Address, int Prefix) Interface(string name)
    {
        var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == name && n.OperationalStatus != OperationalStatus.Down)
                  ?? throw new CameraException($"network interface '{name}' does not exist or is down");
        var unicast = nic.GetIPProperties().UnicastAddresses.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork)
                      ?? throw new CameraException($"network interface '{name}' has no IPv4 address");
        return (unicast.Address, unicast.PrefixLength);
    }
}
