using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Wire.Addresses;

/// <summary>
/// Strict parsing of address literals and networks: those that travel as flow destinations, and those an admin
/// writes (rules, app segments, servers). <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> reads IPv4 as
/// <c>inet_aton</c> does: <c>010.001.002.000</c> in octal (8.1.2.0), <c>0x0a.0.0.0</c> in hex, <c>10.1</c> as 10.0.0.1.
/// Here an IPv4 literal is four decimal octets without leading zeros (RFC 3986 <c>dec-octet</c>), and an IPv6
/// literal has no zone (<c>%eth0</c>); anything else is no literal.
/// </summary>
public static class AddressLiteral
{
    /// <summary>
    /// Parses a dotted-quad IPv4 or an IPv6 literal, IPv6 with or without brackets. Other spellings are no literal
    /// here, so a destination goes to the resolver, which refuses them, instead of slipping past a host rule as an
    /// address.
    /// </summary>
    /// <param name="host">The host text.</param>
    /// <param name="address">The address.</param>
    public static bool TryParse(ReadOnlySpan<char> host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        if (host.Length > 2 && host[0] == '[' && host[^1] == ']')
        {
            host = host[1..^1];
        }

        var isV6 = host.Contains(':');
        if ((isV6 ? !host.Contains('%') : IsDottedQuad(host)) && IPAddress.TryParse(host, out address)
            && address.AddressFamily == (isV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork))
        {
            return true;
        }

        address = null;
        return false;
    }

    /// <summary>
    /// Parses a network in CIDR notation, its address as strictly as <see cref="TryParse"/>; a bare address is one host
    /// (/32 or /128), and host bits are cleared (<c>10.0.0.1/8</c> is <c>10.0.0.0/8</c>).
    /// </summary>
    /// <param name="text">The network, surrounding spaces allowed.</param>
    /// <param name="network">The network.</param>
    public static bool TryParseNetwork(ReadOnlySpan<char> text, out IPNetwork network)
    {
        network = default;
        text = text.Trim();
        var slash = text.IndexOf('/');
        if (!TryParse(slash < 0 ? text : text[..slash], out var address))
        {
            return false;
        }

        var maximum = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = maximum;
        if (slash >= 0 && !TryParseDecimal(text[(slash + 1)..], maximum, out prefix))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        for (var bit = prefix; bit < written * 8; bit++)
        {
            bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }

        network = new IPNetwork(new IPAddress(bytes[..written]), prefix);
        return true;
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        var octets = 0;
        foreach (var range in text.Split('.'))
        {
            if (++octets > 4 || !TryParseDecimal(text[range], 255, out _))
            {
                return false;
            }
        }

        return octets == 4;
    }

    // Decimal digits only, no sign, no leading zero (but "0"), at most the maximum.
    private static bool TryParseDecimal(ReadOnlySpan<char> text, int maximum, out int value)
    {
        value = 0;
        if (text.Length is 0 or > 3 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value <= maximum;
    }
}
