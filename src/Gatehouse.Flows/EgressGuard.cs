using System.Net;
using System.Net.NetworkInformation;

namespace Gatehouse.Flows;

/// <summary>
/// Keeps the edge from being a pivot into its own network: whatever the policy says, no flow goes to
/// loopback, link-local, unspecified, multicast or broadcast addresses, to the edge's own addresses or to
/// the management networks it is told about — unless the operator allows a range in the edge's own
/// configuration (the local demo and the benchmarks allow loopback).
/// </summary>
public sealed class EgressGuard
{
    private static readonly IPNetwork[] AlwaysForbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"),
    ];

    private readonly IPNetwork[] _allowed;
    private readonly IPNetwork[] _management;
    private readonly Func<IReadOnlyCollection<IPAddress>> _ownAddresses;
    private IReadOnlyCollection<IPAddress> _own;
    private long _ownReadAt = long.MinValue;

    /// <summary>Creates the guard.</summary>
    /// <param name="allowed">Ranges the operator allows even though they would be refused.</param>
    /// <param name="managementNetworks">The edge's own networks, refused like loopback.</param>
    /// <param name="ownAddresses">Reads the edge's own addresses; the machine's interfaces when not given.</param>
    public EgressGuard(IEnumerable<IPNetwork>? allowed = null, IEnumerable<IPNetwork>? managementNetworks = null, Func<IReadOnlyCollection<IPAddress>>? ownAddresses = null)
    {
        _allowed = [.. allowed ?? []];
        _management = [.. managementNetworks ?? []];
        _ownAddresses = ownAddresses ?? ReadInterfaceAddresses;
        _own = _ownAddresses();
        _ownReadAt = Environment.TickCount64;
    }

    /// <summary>The ranges allowed explicitly.</summary>
    public IReadOnlyList<IPNetwork> Allowed => _allowed;

    /// <summary>The management networks.</summary>
    public IReadOnlyList<IPNetwork> ManagementNetworks => _management;

    /// <summary>Why the edge must not connect to <paramref name="address"/>, or null when it may.</summary>
    /// <param name="address">The destination address.</param>
    public string? Refusal(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var range in _allowed)
        {
            if (range.Contains(address))
            {
                return null;
            }
        }

        if (address.Equals(IPAddress.Broadcast))
        {
            return "the broadcast address";
        }

        foreach (var range in AlwaysForbidden)
        {
            if (range.Contains(address))
            {
                return $"{address} is a loopback, link-local, multicast or reserved address";
            }
        }

        foreach (var range in _management)
        {
            if (range.Contains(address))
            {
                return $"{address} is in the edge's management network {range}";
            }
        }

        foreach (var own in OwnAddresses())
        {
            if (own.Equals(address))
            {
                return $"{address} is one of the edge's own addresses";
            }
        }

        return null;
    }

    private IReadOnlyCollection<IPAddress> OwnAddresses()
    {
        // Interfaces change rarely; reading them costs a system call per interface, so once a minute is enough.
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _ownReadAt) > 60_000)
        {
            _own = _ownAddresses();
            Interlocked.Exchange(ref _ownReadAt, now);
        }

        return _own;
    }

    private static List<IPAddress> ReadInterfaceAddresses()
    {
        var result = new List<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    var address = unicast.Address;
                    result.Add(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Without the list, the fixed ranges still hold; the edge's public addresses are then not refused.
        }

        return result;
    }

    /// <summary>Parses a CIDR range of an edge option, with a clear error.</summary>
    /// <param name="text">For example <c>127.0.0.0/8</c>.</param>
    /// <param name="option">The option's name, for the message.</param>
    /// <exception cref="FormatException">The text is not a CIDR range.</exception>
    /// <remarks>Read strictly (<see cref="Wire.Addresses.AddressLiteral.TryParseNetwork"/>): <c>010.0.0.0/8</c> is refused, not taken as 8.0.0.0/8.</remarks>
    public static IPNetwork ParseRange(string text, string option) =>
        Wire.Addresses.AddressLiteral.TryParseNetwork(text, out var network)
            ? network
            : throw new FormatException($"{option}: \"{text}\" is not an address range (for example 127.0.0.0/8 or 10.1.0.0/16; IPv4 in four decimal parts without leading zeros).");
}
