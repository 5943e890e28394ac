using System.Globalization;

namespace Gatehouse.Edge.Hosting;

/// <summary>A host and port as others reach the edge or as the edge reaches them: <c>HOST:PORT</c>, IPv6 in brackets.</summary>
public static class HostPort
{
    /// <summary>Splits <c>HOST:PORT</c> (IPv6 in brackets).</summary>
    /// <param name="endpoint">The text.</param>
    /// <param name="host">The host name or address, without brackets.</param>
    /// <param name="port">The port, 1–65535.</param>
    /// <returns>Whether the text is a valid endpoint.</returns>
    public static bool TryParse(string? endpoint, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return false;
        }

        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        var name = endpoint[..colon];
        if (name.StartsWith('[') && name.EndsWith(']'))
        {
            name = name[1..^1];
            if (Uri.CheckHostName(name) != UriHostNameType.IPv6)
            {
                return false;
            }
        }
        else if (Uri.CheckHostName(name) is UriHostNameType.Unknown or UriHostNameType.IPv6)
        {
            // A bare IPv6 address is ambiguous with its port: "::1:6514".
            return false;
        }

        host = name;
        return true;
    }

    /// <summary>Checks <c>HOST:PORT</c> with a clear error.</summary>
    /// <param name="text">The text.</param>
    /// <param name="option">The option's name, for the message.</param>
    /// <param name="example">An example of a good value, for the message.</param>
    /// <returns>The text, trimmed.</returns>
    /// <exception cref="FormatException">The text is not <c>HOST:PORT</c>.</exception>
    public static string Parse(string text, string option, string example)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParse(text.Trim(), out _, out _))
        {
            throw new FormatException($"{option} must be HOST:PORT with a host name or address and a port from 1 to 65535 (IPv6 in brackets), for example {example}; not \"{text}\".");
        }

        return text.Trim();
    }
}
