using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace EdgePatchCore.Agent.Cameras;

/// <summary>
/// Where a GigE Vision camera is and which of this host's addresses talks to it. Cameras are opened by address only: discovery broadcasts
/// on every interface, which a plant network (and every test here) must not see.
/// </summary>
public static class CameraAddress
{
    /// <summary>The camera's address, and the local address of <paramref name="interfaceName"/> (or of the interface whose subnet
    /// holds it).</summary>
    public static (IPAddress Camera, IPAddress Local) Resolve(string address, string? interfaceName)
    {
        if (!IPAddress.TryParse(address, out var camera) || camera.AddressFamily != AddressFamily.InterNetwork)
            throw new CameraException($"camera address '{address}' is not an IPv4 address (cameras are opened by address, never discovered)");
        var interfaces = NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus != OperationalStatus.Down).ToList();
        if (!string.IsNullOrWhiteSpace(interfaceName))
        {
            var named = interfaces.FirstOrDefault(n => n.Name == interfaceName)
                        ?? throw new CameraException($"network interface '{interfaceName}' does not exist or is down");
            return (camera, Ipv4(named).FirstOrDefault()?.Address
                            ?? throw new CameraException($"network interface '{interfaceName}' has no IPv4 address"));
        }
        foreach (var unicast in interfaces.SelectMany(Ipv4))
            if (SameSubnet(unicast.Address, camera, unicast.PrefixLength)) return (camera, unicast.Address);
        throw new CameraException($"no network interface of this host is on the subnet of {camera}: name one (Agent:Sources:GenICam:Interface)");
    }

    private static IEnumerable<UnicastIPAddressInformation> Ipv4(NetworkInterface n) =>
        n.GetIPProperties().UnicastAddresses.Where(a => a.Address.AddressFamily == AddressFamily.InterNetwork);

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> share the first <paramref name="prefix"/> bits.</summary>
    public static bool SameSubnet(IPAddress a, IPAddress b, int prefix)
    {
        uint mask = prefix <= 0 ? 0 : prefix >= 32 ? uint.MaxValue : uint.MaxValue << (32 - prefix);
        uint x = BitConverter.ToUInt32(a.GetAddressBytes().Reverse().ToArray()), y = BitConverter.ToUInt32(b.GetAddressBytes().Reverse().ToArray());
        return (x & mask) == (y & mask);
    }
}
