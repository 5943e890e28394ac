using System.Globalization;
using System.Net;

namespace Gatehouse.Edge.Hosting;

/// <summary>Parses listen addresses of the edge's options with clear errors.</summary>
public static class ListenAddress
{
    /// <summary>Parses <c>HOST:PORT</c>, <c>[V6]:PORT</c> or <c>http://HOST:PORT</c> where HOST is an address or <c>localhost</c> (not <c>https://</c>: the edge picks each listener's protocol).</summary>
    /// <param name="text">The address.</param>
    /// <param name="option">The option's name, for the message.</param>
    /// <exception cref="FormatException">The text is not such an address.</exception>
    public static IPEndPoint Parse(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text;
        if (value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            // The edge picks each listener's protocol: "https://" would promise TLS that /healthz and the proxy do not serve.
            throw new FormatException($"{option}: \"{text}\" asks for https, but the edge chooses each listener's protocol itself (/healthz, /metrics and the forward proxy are plain HTTP, the tunnel listener TLS): give ADDRESS:PORT, for example 127.0.0.1:7445.");
        }

        if (value.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            value = value["http://".Length..].TrimEnd('/');
        }

        var colon = value.LastIndexOf(':');
        if (colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535)
        {
            var host = value[..colon].Trim('[', ']');
            if (host == "localhost")
            {
                return new IPEndPoint(IPAddress.Loopback, port);
            }

            if (IPAddress.TryParse(host, out var address))
            {
                return new IPEndPoint(address, port);
            }
        }

        throw new FormatException($"{option}: \"{text}\" is not a listen address (ADDRESS:PORT, for example 127.0.0.1:3128 or 0.0.0.0:3128).");
    }
}
