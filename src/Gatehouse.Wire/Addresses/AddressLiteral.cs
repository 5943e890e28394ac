using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Wire.Addresses;

/// <summary>Strict parsing of the address literals that travel as flow destinations.</summary>
public static class AddressLiteral
{
    /// <summary>
    /// Parses a dotted-quad IPv4 or an IPv6 literal, IPv6 with or without brackets. <see cref="IPAddress.TryParse(string?, out IPAddress?)"/>
    /// also takes "1" or "0x7f.1"; such spellings are no literal here, so they go to the resolver, which
    /// refuses them, instead of slipping past a host rule as an address.
    /// </summary>
    /// <param name="host">The host text.</param>
    /// <param name="address">The address.</param>
    public static bool TryParse(ReadOnlySpan<char> host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        if (host.Length > 2 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }

        if (IPAddress.TryParse(host, out address) && (address.AddressFamily == AddressFamily.InterNetworkV6 || IsDottedQuad(host)))
        {
            return true;
        }

        address = null;
        return false;
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        var dots = 0;
        foreach (var c in text)
        {
            if (c == '.')
            {
                dots++;
            }
            else if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return dots == 3;
    }
}
