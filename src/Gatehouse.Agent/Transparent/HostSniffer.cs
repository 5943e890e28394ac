using System.Buffers;
using System.Text;
using Gatehouse.Wire.Http;
using Gatehouse.Wire.Tls;

namespace Gatehouse.Agent.Transparent;

/// <summary>What the first bytes of a redirected connection say about where it is going.</summary>
internal enum SniffStatus
{
    /// <summary>Not enough bytes yet to tell.</summary>
    NeedMore,

    /// <summary>Neither TLS with SNI nor an HTTP request with Host: only the address is known.</summary>
    Unknown,

    /// <summary>A TLS ClientHello with a server name.</summary>
    Tls,

    /// <summary>A plain-HTTP request with a Host header.</summary>
    Http,
}

/// <summary>
/// Reads the host name a redirected connection is for, without consuming anything: the SNI of a TLS
/// ClientHello or the Host header of a plain-HTTP request. The name goes to the edge, so domain rules
/// apply in transparent mode as they do behind the local proxy.
/// </summary>
internal static class HostSniffer
{
    /// <summary>The most bytes worth waiting for.</summary>
    public const int MaxBytes = ClientHello.MaxBytes;

    public static SniffStatus TryRead(ReadOnlySequence<byte> data, out string? host)
    {
        host = null;
        switch (ClientHello.TryReadServerName(data, out var serverName))
        {
            case ClientHelloStatus.Found:
                host = serverName;
                return host is null ? SniffStatus.Unknown : SniffStatus.Tls;
            case ClientHelloStatus.NeedMore:
                return SniffStatus.NeedMore;
            case ClientHelloStatus.Malformed:
                return SniffStatus.Unknown;
        }

        Span<byte> start = stackalloc byte[8];
        var startLength = (int)Math.Min(data.Length, start.Length);
        data.Slice(0, startLength).CopyTo(start);
        if (RequestMethods.BeginsOriginRequest(start[..startLength]) == false)
        {
            return SniffStatus.Unknown;
        }

        var length = (int)Math.Min(data.Length, 8 * 1024);
        var text = Encoding.Latin1.GetString(data.Slice(0, length));

        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        foreach (var line in (headEnd < 0 ? text[..Math.Max(0, text.LastIndexOf("\r\n", StringComparison.Ordinal))] : text[..headEnd]).Split("\r\n").Skip(1))
        {
            if (line.StartsWith("host:", StringComparison.OrdinalIgnoreCase))
            {
                var value = line[5..].Trim();
                if (Target.TryParseAuthority(value, defaultPort: 80, out var target) && !target.IsAddress)
                {
                    host = target.Host;
                    return SniffStatus.Http;
                }

                return SniffStatus.Unknown;
            }
        }

        return headEnd < 0 && data.Length < 8 * 1024 ? SniffStatus.NeedMore : SniffStatus.Unknown;
    }
}
