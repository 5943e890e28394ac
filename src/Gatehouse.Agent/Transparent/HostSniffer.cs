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
/// <remarks>
/// One sniffer reads one connection's first bytes as they arrive: given them again each time more have come (nothing
/// consumed), it goes on from where it stopped, so a head trickled a byte at a time costs no more than one sent whole.
/// </remarks>
internal sealed class HostSniffer
{
    /// <summary>The most bytes worth waiting for.</summary>
    public const int MaxBytes = ClientHello.MaxBytes;

    /// <summary>How far into a plain-HTTP request head the Host header is looked for.</summary>
    public const int MaxHeadBytes = 8 * 1024;

    private static ReadOnlySpan<byte> LineEnd => "\r\n"u8;

    private static ReadOnlySpan<byte> HostName => "host:"u8;

    private readonly ClientHelloReader _hello = new();
    private SniffStatus _status = SniffStatus.NeedMore;
    private string? _host;

    // Whether the bytes begin a plain-HTTP request; then where the head's next line begins, and how far the search for
    // its end has gone.
    private bool _isRequest;
    private long _lineStart;
    private long _searched;
    private bool _pastRequestLine;

    /// <summary>Reads on from where the last call stopped.</summary>
    /// <param name="data">The connection's first bytes, all of them so far: those of the last call and more.</param>
    /// <param name="host">The host name, lower-cased, when found.</param>
    public SniffStatus TryRead(ReadOnlySequence<byte> data, out string? host)
    {
        if (_status == SniffStatus.NeedMore)
        {
            _status = ReadOn(data);
        }

        host = _host;
        return _status;
    }

    private SniffStatus ReadOn(ReadOnlySequence<byte> data)
    {
        switch (_hello.Read(data, out var serverName))
        {
            case ClientHelloStatus.Found:
                _host = serverName;
                return serverName is null ? SniffStatus.Unknown : SniffStatus.Tls;
            case ClientHelloStatus.NeedMore:
                return SniffStatus.NeedMore;
            case ClientHelloStatus.Malformed:
                return SniffStatus.Unknown;
        }

        if (!_isRequest)
        {
            Span<byte> start = stackalloc byte[8];
            var startLength = (int)Math.Min(data.Length, start.Length);
            data.Slice(0, startLength).CopyTo(start);
            switch (RequestMethods.BeginsOriginRequest(start[..startLength]))
            {
                case null:
                    return SniffStatus.NeedMore;
                case false:
                    return SniffStatus.Unknown;
            }

            _isRequest = true;
        }

        return ReadHead(data);
    }

    /// <summary>Looks at each whole line of the head once, up to the first <see cref="MaxHeadBytes"/>, for the Host header.</summary>
    private SniffStatus ReadHead(ReadOnlySequence<byte> data)
    {
        var head = data.Slice(0, Math.Min(data.Length, MaxHeadBytes));
        while (true)
        {
            var reader = new SequenceReader<byte>(head.Slice(_searched));
            if (!reader.TryReadTo(out ReadOnlySequence<byte> _, LineEnd))
            {
                // The next search starts at the last byte: a CR there may begin the line's end.
                _searched = Math.Max(_lineStart, head.Length - 1);
                return data.Length < MaxHeadBytes ? SniffStatus.NeedMore : SniffStatus.Unknown;
            }

            var lineEnd = _searched + reader.Consumed - LineEnd.Length;
            var line = head.Slice(_lineStart, lineEnd - _lineStart);
            _lineStart = _searched = lineEnd + LineEnd.Length;
            if (!_pastRequestLine)
            {
                _pastRequestLine = true;
                continue;
            }

            if (line.IsEmpty)
            {
                return SniffStatus.Unknown; // the head ended without a Host
            }

            if (IsHostLine(line))
            {
                var value = Encoding.Latin1.GetString(line.Slice(HostName.Length)).Trim();
                if (Target.TryParseAuthority(value, defaultPort: 80, out var target) && !target.IsAddress)
                {
                    _host = target.Host;
                    return SniffStatus.Http;
                }

                return SniffStatus.Unknown;
            }
        }
    }

    private static bool IsHostLine(ReadOnlySequence<byte> line)
    {
        if (line.Length < HostName.Length)
        {
            return false;
        }

        Span<byte> name = stackalloc byte[HostName.Length];
        line.Slice(0, HostName.Length).CopyTo(name);
        return Ascii.EqualsIgnoreCase(name, HostName);
    }
}
