using System.Globalization;

namespace Gatehouse.Wire.Http;

/// <summary>Where a proxied request goes: host, port, the authority as written, and the origin-form path.</summary>
/// <param name="Host">The host name (lower case) or address literal (IPv6 without brackets).</param>
/// <param name="Port">The port.</param>
/// <param name="Authority">HOST[:PORT] as sent on to the destination's Host header.</param>
/// <param name="PathAndQuery">The origin-form target (starts with <c>/</c>).</param>
/// <param name="IsAddress">The host is an address literal.</param>
public readonly record struct Target(string Host, int Port, string Authority, string PathAndQuery, bool IsAddress)
{
    /// <summary>
    /// The same target with another host (a TLS server name, say), <see cref="IsAddress"/> following it: a copy made
    /// with <c>with { Host = … }</c> would keep saying whether the old host was an address.
    /// </summary>
    public Target WithHost(string host) => this with { Host = host, IsAddress = Addresses.AddressLiteral.TryParse(host, out _) };

    /// <summary>
    /// Parses <c>HOST:PORT</c> (CONNECT) or <c>HOST[:PORT]</c> with <paramref name="defaultPort"/> (0 = the port is
    /// required). A port is written as a URL parser writes it, without leading zeros; <see cref="AuthorityError"/> says
    /// why an authority is refused.
    /// </summary>
    public static bool TryParseAuthority(string authority, int defaultPort, out Target target)
    {
        target = default;
        if (authority.Length is 0 or > 261 || authority.Contains('@', StringComparison.Ordinal))
        {
            return false;
        }

        string host;
        var portText = string.Empty;
        if (authority[0] == '[')
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = authority[1..close];
            var rest = authority[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    return false;
                }

                portText = rest[1..];
            }

            if (Uri.CheckHostName(host) != UriHostNameType.IPv6)
            {
                return false;
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? string.Empty : authority[(colon + 1)..];
            if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
            {
                return false;
            }
        }

        int port;
        if (portText.Length == 0)
        {
            if (defaultPort == 0)
            {
                return false;
            }

            port = defaultPort;
        }
        else if (HasLeadingZero(portText) || !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = host.ToLowerInvariant();
        var isAddress = Addresses.AddressLiteral.TryParse(host, out _);
        if (!isAddress && IsLooseAddress(host))
        {
            return false;
        }

        target = new Target(host, port, authority, "/", isAddress);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="host"/> is an address only as <c>inet_aton</c> reads one (<c>10.1</c>, <c>2130706434</c>,
    /// <c>0x7f.0.0.1</c>, <c>010.0.0.1</c>) or an IPv6 address with a zone. Taken for a name, the resolver would turn
    /// it into an address that no rule for that address's network saw.
    /// </summary>
    public static bool IsLooseAddress(string host) =>
        System.Net.IPAddress.TryParse(host, out _) && !Addresses.AddressLiteral.TryParse(host, out _);

    /// <summary>
    /// Why <paramref name="authority"/>, which <see cref="TryParseAuthority"/> refused, is no <c>HOST[:PORT]</c>, in
    /// words for the client: a host that is an address only in another spelling, a port written with leading zeros,
    /// or neither.
    /// </summary>
    /// <param name="authority">What the client sent.</param>
    /// <param name="portRequired">It had to name a port (CONNECT).</param>
    public static string AuthorityError(string authority, bool portRequired = false)
    {
        var form = portRequired ? "HOST:PORT" : "HOST[:PORT]";
        var bracketed = authority.StartsWith('[');
        var colon = bracketed ? authority.IndexOf("]:", StringComparison.Ordinal) + 1 : authority.LastIndexOf(':');
        var host = colon > 0 ? authority[..colon] : authority;
        var port = colon > 0 ? authority[(colon + 1)..] : string.Empty;
        if (IsLooseAddress(host.Trim('[', ']')))
        {
            return $"\"{authority}\" is not a valid {form}: write an IPv4 address as four decimal numbers (10.0.0.1), an IPv6 one without a zone.";
        }

        // 08080 is port 8080 to the dialler, but the URL in the record and the Host sent on would say 08080.
        return HasLeadingZero(port) && port.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0
            ? $"\"{authority}\" is not a valid {form}: write the port as a decimal number without leading zeros."
            : $"\"{authority}\" is not a valid {form}.";
    }

    /// <summary>Parses an absolute-form target, <c>http://HOST[:PORT][/path][?query]</c>.</summary>
    public static bool TryParseAbsolute(string text, out Target target, out string error)
    {
        target = default;
        const string Scheme = "http://";
        if (!text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            error = text.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                ? "https:// URLs go through CONNECT, not as a plain request to the proxy."
                : "The proxy forwards http:// URLs and CONNECT tunnels only.";
            return false;
        }

        if (text.Contains('#', StringComparison.Ordinal))
        {
            // A fragment is the browser's own; sent on, a destination would take it as part of the path.
            error = "A request target may not carry a fragment (#).";
            return false;
        }

        var rest = text[Scheme.Length..];
        var end = rest.AsSpan().IndexOfAny('/', '?');

        var authority = end < 0 ? rest : rest[..end];
        var path = end < 0 ? "/" : rest[end] == '?' ? "/" + rest[end..] : rest[end..];
        if (!TryParseAuthority(authority, 80, out target))
        {
            error = AuthorityError(authority);
            return false;
        }

        target = target with { PathAndQuery = path };
        error = string.Empty;
        return true;
    }

    /// <summary>A port of more than one digit that starts with 0: one spelling per port, as a URL parser writes it.</summary>
    private static bool HasLeadingZero(string port) => port.Length > 1 && port[0] == '0';
}
