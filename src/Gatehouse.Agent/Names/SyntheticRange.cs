using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Gatehouse.Agent.Networks;

namespace Gatehouse.Agent.Names;

/// <summary>
/// Chooses the /16 that private apps' synthetic addresses come from: 100.64.0.0/16, or the next of
/// 100.65.0.0/16 … 100.83.0.0/16 when the host already uses it (an interface's network, a route, a
/// DNS server), so that a synthetic address never shadows a real one.
/// </summary>
internal static class SyntheticRange
{
    /// <summary>The first range tried.</summary>
    public const int FirstSecondOctet = 64;

    /// <summary>The last range tried.</summary>
    public const int LastSecondOctet = 83;

    /// <summary>The first range of the candidates that overlaps nothing in <paramref name="inUse"/>, or null when all do.</summary>
    public static IPNetwork? Choose(IEnumerable<IPNetwork> inUse)
    {
        var used = inUse.Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetwork && n.PrefixLength > 0).ToList();
        for (var octet = FirstSecondOctet; octet <= LastSecondOctet; octet++)
        {
            var candidate = new IPNetwork(new IPAddress([100, (byte)octet, 0, 0]), 16);
            if (!used.Any(n => Overlaps(n, candidate)))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Whether two networks share an address.</summary>
    public static bool Overlaps(IPNetwork a, IPNetwork b) => a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress);

    /// <summary>
    /// The IPv4 networks the host uses: its interfaces' networks, its routes (but the default route),
    /// and its DNS servers, from <paramref name="resolvConf"/>.
    /// </summary>
    public static IReadOnlyList<IPNetwork> HostNetworks(string resolvConf, string routes = "/proc/net/route")
    {
        var networks = new List<IPNetwork>();
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork)
                {
                    networks.Add(new IPNetwork(Masked(unicast.Address, unicast.PrefixLength), unicast.PrefixLength));
                }
            }
        }

        networks.AddRange(Routes(routes));
        foreach (var server in ResolvConf.Read(resolvConf).Servers)
        {
            if (IPAddress.TryParse(server, out var address) && address.AddressFamily == AddressFamily.InterNetwork)
            {
                networks.Add(new IPNetwork(address, 32));
            }
        }

        return networks;
    }

    /// <summary>The IPv4 routes of <c>/proc/net/route</c> (destination and mask in host byte order, hex).</summary>
    private static IEnumerable<IPNetwork> Routes(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        var routes = new List<IPNetwork>();
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length > 7
                && uint.TryParse(fields[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var destination)
                && uint.TryParse(fields[7], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
            {
                var prefix = System.Numerics.BitOperations.PopCount(mask);
                routes.Add(new IPNetwork(Masked(new IPAddress(destination), prefix), prefix));
            }
        }

        return routes;
    }

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
