using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Tunnel;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>How the edge answered one stream: a status, a reset of the stream, or the end of the connection.</summary>
/// <param name="Status">The response's <c>:status</c>, when a response came.</param>
/// <param name="Reason">The response's <c>gatehouse-reason</c>, when there was one.</param>
/// <param name="ResetCode">The error code of the RST_STREAM that ended the stream instead.</param>
/// <param name="GoAwayCode">The error code of the GOAWAY that ended the connection instead.</param>
/// <param name="Closed">The connection ended before an answer.</param>
internal sealed record StreamAnswer(int? Status = null, string? Reason = null, int? ResetCode = null, int? GoAwayCode = null, bool Closed = false)
{
    public override string ToString() =>
        Status is { } status ? $"{status} {Reason}" : ResetCode is { } reset ? $"RST_STREAM {reset}" : GoAwayCode is { } code ? $"GOAWAY {code}" : "closed";
}

/// <summary>
/// One mutual-TLS HTTP/2 connection to the tunnel listener, written frame by frame, so that a test can send
/// what HttpClient would refuse or normalize: raw bytes in <c>:path</c>, odd pseudo-headers, garbage frames.
/// Requests go one at a time. The client asks for a header table of size 0, so that every answer can be
/// read without the dynamic table; header fields are sent as literals, bytes as given (Latin-1).
/// </summary>
internal sealed class RawTunnelConnection : IAsyncDisposable
{
    public const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9;
    public const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;

    /// <summary>HTTP/2 error codes (RFC 9113 7).</summary>
    public const int ProtocolError = 0x1, InternalError = 0x2, Cancel = 0x8, CompressionError = 0x9;

    private const int MaxFrame = 16 * 1024;
    private readonly TcpClient _tcp;
    private int _nextStream = 1;

    private RawTunnelConnection(TcpClient tcp, SslStream tls)
    {
        _tcp = tcp;
        Tls = tls;
    }

    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>The TLS stream, for tests that write their own bytes.</summary>
    public SslStream Tls { get; }

    public Socket Socket => _tcp.Client;

    /// <summary>The id of the stream the last <see cref="SendAsync"/> opened.</summary>
    public int LastStream => _nextStream - 2;

    /// <summary>Connects and completes the TLS handshake with the device certificate (ALPN h2); nothing of HTTP/2 is sent yet.</summary>
    public static async Task<RawTunnelConnection> ConnectAsync(IPEndPoint edge, X509Certificate2 device, X509Certificate2 tenantCa, string tenantId, CancellationToken ct)
    {
        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(edge, ct);
            var tls = new SslStream(tcp.GetStream());
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "edge",
                    EnabledSslProtocols = SslProtocols.Tls13,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                    ClientCertificates = [device],
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => TunnelClient.IsTenantEdge(certificate as X509Certificate2, tenantCa, tenantId),
                },
                ct);
            Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
            return new RawTunnelConnection(tcp, tls);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Connects, then sends the preface, SETTINGS (header table size 0) and a large connection window.</summary>
    public static async Task<RawTunnelConnection> OpenAsync(IPEndPoint edge, X509Certificate2 device, X509Certificate2 tenantCa, string tenantId, CancellationToken ct)
    {
        var connection = await ConnectAsync(edge, device, tenantCa, tenantId, ct);
        try
        {
            await connection.Tls.WriteAsync(Preface.ToArray(), ct);
            await connection.WriteFrameAsync(Settings, 0, 0, SettingsPayload(), ct);

            // Refusals carry small bodies; one large window keeps hundreds of them from filling the connection's.
            var increment = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(increment, 1 << 30);
            await connection.WriteFrameAsync(WindowUpdate, 0, 0, increment, ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client SETTINGS payload: SETTINGS_HEADER_TABLE_SIZE = 0.</summary>
    public static byte[] SettingsPayload() => [0x00, 0x01, 0x00, 0x00, 0x00, 0x00];

    /// <summary>One frame: the 9-byte header and <paramref name="payload"/>.</summary>
    public static byte[] Frame(byte type, byte flags, int stream, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream & int.MaxValue);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    /// <summary>An HPACK block of literal fields without indexing, new names, no Huffman coding; strings as Latin-1 bytes.</summary>
    public static byte[] HeaderBlock(IEnumerable<KeyValuePair<string, string>> fields)
    {
        var block = new MemoryStream();
        foreach (var (name, value) in fields)
        {
            block.WriteByte(0x00);
            WriteString(block, name);
            WriteString(block, value);
        }

        return block.ToArray();
    }

    public Task WriteFrameAsync(byte type, byte flags, int stream, byte[] payload, CancellationToken ct) =>
        Tls.WriteAsync(Frame(type, flags, stream, payload), ct).AsTask();

    /// <summary>Sends one request (HEADERS, with END_STREAM when <paramref name="endStream"/>) and reads frames until its answer.</summary>
    public async Task<StreamAnswer> SendAsync(IEnumerable<KeyValuePair<string, string>> fields, bool endStream, CancellationToken ct)
    {
        var stream = _nextStream;
        _nextStream += 2;
        var block = HeaderBlock(fields);
        try
        {
            // A block larger than a frame goes on in CONTINUATION frames (RFC 9113 6.10).
            var end = endStream ? EndStream : (byte)0;
            var first = block.AsSpan(0, Math.Min(block.Length, MaxFrame)).ToArray();
            await WriteFrameAsync(Headers, (byte)(end | (block.Length <= MaxFrame ? EndHeaders : 0)), stream, first, ct);
            for (var at = MaxFrame; at < block.Length; at += MaxFrame)
            {
                var length = Math.Min(block.Length - at, MaxFrame);
                await WriteFrameAsync(Continuation, at + length == block.Length ? EndHeaders : (byte)0, stream, block.AsSpan(at, length).ToArray(), ct);
            }
        }
        catch (IOException)
        {
            // The edge closed while the block was still going out: what it sent first (a GOAWAY) may still be read.
        }

        return await ReadAnswerAsync(stream, ct);
    }

    /// <summary>Sends <paramref name="data"/> on <paramref name="stream"/> in one DATA frame, ending the stream's side with it when <paramref name="endStream"/>.</summary>
    public Task SendDataAsync(int stream, byte[] data, bool endStream, CancellationToken ct) =>
        WriteFrameAsync(Data, endStream ? EndStream : (byte)0, stream, data, ct);

    /// <summary>Resets <paramref name="stream"/> (RST_STREAM with <paramref name="code"/>), as a client that gives up on it does.</summary>
    public Task ResetStreamAsync(int stream, int code, CancellationToken ct)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, code);
        return WriteFrameAsync(RstStream, 0, stream, payload, ct);
    }

    /// <summary>
    /// Reads the edge's first frames until it has said its windows: the stream window of its SETTINGS
    /// (SETTINGS_INITIAL_WINDOW_SIZE, 65,535 when left out) and the connection window (65,535 and its first
    /// connection-level WINDOW_UPDATE). Call it before anything else is read.
    /// </summary>
    public async Task<(int Stream, long Connection)> ReadEdgeWindowsAsync(CancellationToken ct)
    {
        int? stream = null;
        long? connection = null;
        while ((stream is null || connection is null) && await ReadFrameAsync(ct) is { } frame)
        {
            var (type, flags, id, payload) = frame;
            if (type == Settings && (flags & Ack) == 0)
            {
                stream = 65_535;
                for (var i = 0; i + 6 <= payload.Length; i += 6)
                {
                    if (BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(i)) == 0x4)
                    {
                        stream = BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(i + 2));
                    }
                }
            }
            else if (type == WindowUpdate && id == 0)
            {
                connection = 65_535 + (BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue);
            }
        }

        return (stream ?? throw new IOException("The connection ended before the edge's SETTINGS."), connection ?? throw new IOException("The connection ended before the edge's connection window."));
    }

    /// <summary>Reads the DATA of <paramref name="stream"/> until the edge ends its side (END_STREAM); null when it resets the stream or the connection ends first.</summary>
    public async Task<string?> ReadBodyAsync(int stream, CancellationToken ct)
    {
        var body = new MemoryStream();
        while (await ReadFrameAsync(ct) is { } frame)
        {
            var (type, flags, id, payload) = frame;
            switch (type)
            {
                case RstStream when id == stream:
                case GoAway:
                    return null;
                case Data or Headers when id == stream:
                    if (type == Data)
                    {
                        body.Write(payload);
                    }

                    if ((flags & EndStream) != 0)
                    {
                        return Encoding.ASCII.GetString(body.ToArray());
                    }

                    break;
            }
        }

        return null;
    }

    /// <summary>Reads the next frame, acknowledging a SETTINGS or PING; null when the connection ends.</summary>
    private async Task<(byte Type, byte Flags, int Stream, byte[] Payload)?> ReadFrameAsync(CancellationToken ct)
    {
        var header = new byte[9];
        byte[] payload;
        try
        {
            await Tls.ReadExactlyAsync(header, ct);
            payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
            await Tls.ReadExactlyAsync(payload, ct);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            return null;
        }

        var (type, flags) = (header[3], header[4]);
        if (type is Settings or Ping && (flags & Ack) == 0)
        {
            await AcknowledgeAsync(type, type == Ping ? payload : [], ct);
        }

        return (type, flags, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue, payload);
    }

    private async Task<StreamAnswer> ReadAnswerAsync(int stream, CancellationToken ct)
    {
        MemoryStream? headerBlock = null;
        while (true)
        {
            if (await ReadFrameAsync(ct) is not { } frame)
            {
                return new StreamAnswer(Closed: true);
            }

            var (type, flags, id, payload) = frame;
            switch (type)
            {
                case GoAway:
                    return new StreamAnswer(GoAwayCode: BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4)));
                case RstStream when id == stream:
                    return new StreamAnswer(ResetCode: BinaryPrimitives.ReadInt32BigEndian(payload));
                case Headers when id == stream:
                    headerBlock = new MemoryStream();
                    headerBlock.Write(HeaderFragment(payload, flags));
                    if ((flags & EndHeaders) != 0)
                    {
                        return Answer(headerBlock.ToArray());
                    }

                    break;
                case Continuation when id == stream && headerBlock is not null:
                    headerBlock.Write(payload);
                    if ((flags & EndHeaders) != 0)
                    {
                        return Answer(headerBlock.ToArray());
                    }

                    break;
                default:
                    // DATA and WINDOW_UPDATE, answers of earlier streams: the connection window is large enough.
                    break;
            }
        }
    }

    /// <summary>Acknowledges a SETTINGS or PING; an edge that has closed its end may still have a GOAWAY to read.</summary>
    private async Task AcknowledgeAsync(byte type, byte[] payload, CancellationToken ct)
    {
        try
        {
            await WriteFrameAsync(type, Ack, 0, payload, ct);
        }
        catch (IOException)
        {
            // What the edge sent before it closed is still read.
        }
    }

    private static ReadOnlySpan<byte> HeaderFragment(byte[] payload, byte flags)
    {
        var fragment = payload.AsSpan();
        var padding = 0;
        if ((flags & Padded) != 0)
        {
            padding = fragment[0];
            fragment = fragment[1..];
        }

        if ((flags & Priority) != 0)
        {
            fragment = fragment[5..];
        }

        return fragment[..^padding];
    }

    /// <summary>
    /// Reads <c>:status</c> and <c>gatehouse-reason</c> from a header block encoded without the dynamic table
    /// (its size is 0 here). Other fields are skipped; Huffman-coded strings are not decoded.
    /// </summary>
    private static StreamAnswer Answer(byte[] block)
    {
        const int StaticStatus = 8;
        int[] staticStatuses = [200, 204, 206, 304, 400, 404, 500];
        int? status = null;
        string? reason = null;
        var at = 0;
        while (at < block.Length)
        {
            var first = block[at];
            if ((first & 0x80) != 0)
            {
                var index = ReadInteger(block, ref at, 7);
                if (index is >= StaticStatus and < StaticStatus + 7)
                {
                    status = staticStatuses[index - StaticStatus];
                }

                continue;
            }

            if ((first & 0xE0) == 0x20)
            {
                ReadInteger(block, ref at, 5);
                continue;
            }

            var nameIndex = ReadInteger(block, ref at, (first & 0x40) != 0 ? 6 : 4);
            var name = nameIndex == 0 ? ReadString(block, ref at) : nameIndex == StaticStatus ? ":status" : $"#{nameIndex}";
            var value = ReadString(block, ref at);
            if (name == ":status")
            {
                status = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (name == Wire.Tunnel.TunnelProtocol.ReasonHeader)
            {
                reason = value;
            }
        }

        return new StreamAnswer(status, reason);
    }

    private static int ReadInteger(byte[] block, ref int at, int prefixBits)
    {
        var max = (1 << prefixBits) - 1;
        var value = block[at++] & max;
        if (value < max)
        {
            return value;
        }

        var shift = 0;
        byte next;
        do
        {
            next = block[at++];
            value += (next & 0x7F) << shift;
            shift += 7;
        }
        while ((next & 0x80) != 0);
        return value;
    }

    private static string ReadString(byte[] block, ref int at)
    {
        var huffman = (block[at] & 0x80) != 0;
        var length = ReadInteger(block, ref at, 7);
        var text = huffman ? "<huffman>" : Encoding.Latin1.GetString(block, at, length);
        at += length;
        return text;
    }

    private static void WriteString(Stream block, string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        if (bytes.Length < 0x7F)
        {
            block.WriteByte((byte)bytes.Length);
        }
        else
        {
            block.WriteByte(0x7F);
            var rest = bytes.Length - 0x7F;
            while (rest >= 0x80)
            {
                block.WriteByte((byte)((rest & 0x7F) | 0x80));
                rest >>= 7;
            }

            block.WriteByte((byte)rest);
        }

        block.Write(bytes);
    }

    public async ValueTask DisposeAsync()
    {
        await Tls.DisposeAsync();
        _tcp.Dispose();
    }
}
