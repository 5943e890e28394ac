using System.Buffers;
using System.Text;

namespace Gatehouse.Wire.Http;

/// <summary>What became of an attempt to read a message head.</summary>
public enum HeadStatus
{
    /// <summary>A whole head was read.</summary>
    Complete,

    /// <summary>More bytes are needed.</summary>
    Incomplete,

    /// <summary>The head is longer than allowed (431 for requests).</summary>
    TooLarge,

    /// <summary>The head breaks HTTP/1.1's syntax (400).</summary>
    Malformed,
}

/// <summary>
/// The parts of an HTTP/1.1 message head a proxy needs: the start line, the framing (length or chunked),
/// connection persistence, and which header lines pass through unchanged. Strict on purpose: lines end in
/// CRLF, names are tokens, no folding, no control characters, <c>Content-Length</c> and
/// <c>Transfer-Encoding</c> never together in a request, so no message can be read two ways (smuggling).
/// A <c>Content-Length</c> that repeats one value (<c>5, 5</c>, or two lines of <c>5</c>) is that value, as
/// RFC 9112 section 6.3 allows and the Fetch standard and Squid read it, and passes on as one line with the value once;
/// different or empty values are refused.
/// </summary>
public abstract class HttpHead
{
    private static ReadOnlySpan<byte> EndOfHead => "\r\n\r\n"u8;

    // One buffer per head object; a session reuses its head objects, so a request costs no array.
    private byte[] _raw = new byte[2048];
    private int _rawLength;
    private readonly List<(int Start, int Length, int Colon)> _lines = new(16);
    private readonly List<string> _connectionTokens = new(2);

    /// <summary>The head's bytes, start line to the blank line (without it); a <c>Content-Length</c> list reads as its one value.</summary>
    public ReadOnlySpan<byte> Raw => _raw.AsSpan(0, _rawLength);

    /// <summary>True for HTTP/1.1, false for HTTP/1.0.</summary>
    public bool IsHttp11 { get; private set; }

    /// <summary>The Content-Length, or -1 when there is none.</summary>
    public long ContentLength { get; private set; } = -1;

    /// <summary>A Transfer-Encoding header was present.</summary>
    public bool HasTransferEncoding { get; private set; }

    /// <summary>Transfer-Encoding ends in <c>chunked</c>.</summary>
    public bool Chunked { get; private set; }

    /// <summary>The connection ends after this message (<c>Connection: close</c>, or HTTP/1.0: this proxy keeps no HTTP/1.0 connection alive).</summary>
    public bool Close { get; private set; }

    /// <summary>Header lines that pass through: (start, length) in <see cref="Raw"/>, without CRLF.</summary>
    public List<(int Start, int Length)> PassLines { get; } = new(16);

    /// <summary>Why the head is malformed.</summary>
    public string? Error { get; private set; }

    /// <summary>Looks for a whole head at the start of <paramref name="buffer"/>, searching all of it.</summary>
    /// <param name="buffer">What has arrived.</param>
    /// <param name="maxBytes">The longest head allowed.</param>
    /// <param name="consumed">Where the body begins, when complete.</param>
    public HeadStatus TryRead(ReadOnlySequence<byte> buffer, int maxBytes, out SequencePosition consumed)
    {
        var searched = 0L;
        return TryRead(buffer, maxBytes, ref searched, out consumed);
    }

    /// <summary>
    /// Looks for a whole head at the start of <paramref name="buffer"/>, going on from where the last search of the
    /// same head stopped, so that a head that arrives a byte at a time costs its length, not its length squared.
    /// </summary>
    /// <param name="buffer">What has arrived: after <see cref="HeadStatus.Incomplete"/>, the same bytes with more after them.</param>
    /// <param name="maxBytes">The longest head allowed.</param>
    /// <param name="searched">
    /// How far the search of this head has gone: 0 for a new head, then left as this method sets it, by a caller that
    /// keeps the buffer's start where it was (<c>AdvanceTo(buffer.Start, buffer.End)</c>).
    /// </param>
    /// <param name="consumed">Where the body begins, when complete.</param>
    public HeadStatus TryRead(ReadOnlySequence<byte> buffer, int maxBytes, ref long searched, out SequencePosition consumed)
    {
        consumed = buffer.Start;

        // Clients may send empty lines between requests (RFC 9112 section 2.2); they are skipped.
        var reader = new SequenceReader<byte>(buffer);
        while (reader.IsNext("\r\n"u8, advancePast: true))
        {
        }

        var start = reader.Position;
        var pending = reader.Remaining;
        reader.Advance(Math.Min(searched, pending));
        if (!reader.TryReadTo(out ReadOnlySequence<byte> _, EndOfHead, advancePastDelimiter: true))
        {
            // The end's first bytes may have come already: the next search starts where they may be.
            searched = Math.Max(0, pending - (EndOfHead.Length - 1));
            return pending > maxBytes ? HeadStatus.TooLarge : HeadStatus.Incomplete;
        }

        searched = 0;
        var head = buffer.Slice(start, reader.Position);
        head = head.Slice(0, head.Length - EndOfHead.Length);
        if (head.Length + EndOfHead.Length > maxBytes)
        {
            return HeadStatus.TooLarge;
        }

        consumed = reader.Position;
        Reset();
        if (_raw.Length < head.Length)
        {
            _raw = new byte[Math.Max(head.Length, _raw.Length * 2)];
        }

        head.CopyTo(_raw);
        _rawLength = (int)head.Length;
        return Parse() ? HeadStatus.Complete : HeadStatus.Malformed;
    }

    /// <summary>Forgets the last head, so that the object reads the next one.</summary>
    protected virtual void Reset()
    {
        _lines.Clear();
        _connectionTokens.Clear();
        PassLines.Clear();
        IsHttp11 = false;
        ContentLength = -1;
        HasTransferEncoding = false;
        Chunked = false;
        Close = false;
        Error = null;
    }

    private bool Parse()
    {
        var raw = Raw;
        var lineEnd = raw.IndexOf("\r\n"u8);
        var startLine = lineEnd < 0 ? raw : raw[..lineEnd];
        if (!ParseStartLine(startLine))
        {
            return false;
        }

        var connectionTokens = _connectionTokens;
        var position = lineEnd < 0 ? raw.Length : lineEnd + 2;
        var lines = _lines;
        while (position < raw.Length)
        {
            var rest = raw[position..];
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            var colon = line.IndexOf((byte)':');
            if (!HttpSyntax.IsFieldLine(line))
            {
                return Fail(colon == 0 || (line.Length > 0 && (line[0] == ' ' || line[0] == '\t'))
                    ? "a header line starts with a space or has no name (folded headers are not accepted)"
                    : "a header line is not NAME: VALUE with a token name and printable value");
            }

            var name = line[..colon];
            var value = Trim(line[(colon + 1)..]);
            if (!OnHeader(name, value, connectionTokens))
            {
                return false;
            }

            lines.Add((position, line.Length, colon));
            position += line.Length + 2;
        }

        if (HasTransferEncoding && ContentLength >= 0 && RejectsLengthWithTransferEncoding)
        {
            return Fail("Content-Length and Transfer-Encoding together");
        }

        if (HasTransferEncoding && !IsHttp11 && StartsWithMethod)
        {
            // HTTP/1.0 has no transfer codings: its framing is faulty (RFC 9112 section 6.1).
            return Fail("Transfer-Encoding in an HTTP/1.0 request");
        }

        var lengthPassed = false;
        foreach (var (lineStart, length, colon) in lines)
        {
            var name = raw.Slice(lineStart, colon);
            if (IsHopByHop(name) || IsListed(name, connectionTokens))
            {
                continue;
            }

            if (Is(name, "Content-Length"u8))
            {
                // Its value once: the next hop never sees a list or a second line that it might read otherwise.
                if (!lengthPassed)
                {
                    PassLines.Add((lineStart, WriteLengthOnce(lineStart, length, colon)));
                    lengthPassed = true;
                }

                continue;
            }

            PassLines.Add((lineStart, length));
        }

        return true;
    }

    /// <summary>
    /// Rewrites a <c>Content-Length</c> line whose value is a list of one number repeated as <c>NAME: NUMBER</c>, in
    /// place (the list is longer than the number and a space); returns the line's new length.
    /// </summary>
    private int WriteLengthOnce(int lineStart, int length, int colon)
    {
        var value = _raw.AsSpan(lineStart + colon + 1, length - colon - 1);
        if (value.IndexOf((byte)',') < 0)
        {
            return length;
        }

        value[0] = (byte)' ';
        ContentLength.TryFormat(value[1..], out var digits, default, System.Globalization.CultureInfo.InvariantCulture);
        return colon + 2 + digits;
    }

    /// <summary>Whether a message with both framings is refused (requests) or read by Transfer-Encoding (responses, as RFC 9112 says).</summary>
    protected abstract bool RejectsLengthWithTransferEncoding { get; }

    /// <summary>Whether the start line begins with a method, which must be a token (RFC 9110 section 9.1): true for requests.</summary>
    protected virtual bool StartsWithMethod => false;

    /// <summary>Whether <paramref name="name"/> is a hop-by-hop header this proxy drops.</summary>
    protected virtual bool IsHopByHop(ReadOnlySpan<byte> name) =>
        Is(name, "Connection"u8) || Is(name, "Keep-Alive"u8) || Is(name, "Proxy-Connection"u8) || Is(name, "Proxy-Authorization"u8)
        || Is(name, "Proxy-Authenticate"u8) || Is(name, "TE"u8) || Is(name, "Upgrade"u8);

    /// <summary>Reads a header the subclass cares about; false (after <see cref="Fail"/>) to refuse the head.</summary>
    protected virtual bool OnOtherHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => true;

    private bool OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, List<string> connectionTokens)
    {
        if (Is(name, "Content-Length"u8))
        {
            // A list (RFC 9110 section 5.6.1) of numbers, as two lines of the field make one.
            foreach (var range in value.Split((byte)','))
            {
                if (!TryParseLength(Trim(value[range]), out var length))
                {
                    return Fail("Content-Length is neither a number nor one number repeated");
                }

                if (ContentLength >= 0 && ContentLength != length)
                {
                    return Fail("two different Content-Length values");
                }

                ContentLength = length;
            }
        }
        else if (Is(name, "Transfer-Encoding"u8))
        {
            HasTransferEncoding = true;
            var last = value;
            var comma = value.LastIndexOf((byte)',');
            if (comma >= 0)
            {
                last = Trim(value[(comma + 1)..]);
            }

            Chunked = Ascii.EqualsIgnoreCase(last, "chunked"u8);
        }
        else if (Is(name, "Connection"u8) || Is(name, "Proxy-Connection"u8))
        {
            foreach (var range in value.Split((byte)','))
            {
                var token = Trim(value[range]);
                if (Ascii.EqualsIgnoreCase(token, "close"u8))
                {
                    Close = true;
                }
                else if (Is(token, "Content-Length"u8) || Is(token, "Transfer-Encoding"u8))
                {
                    // A proxy drops what Connection names (RFC 9110 section 7.6.1): the next hop would read the body
                    // without its framing, and take the rest of it for more messages.
                    return Fail("Connection names a header that frames the message");
                }
                else if (token.Length > 0 && !Ascii.EqualsIgnoreCase(token, "keep-alive"u8))
                {
                    connectionTokens.Add(Encoding.ASCII.GetString(token));
                }
            }
        }

        return OnOtherHeader(name, value);
    }

    private bool ParseStartLine(ReadOnlySpan<byte> line)
    {
        var firstSpace = line.IndexOf((byte)' ');
        if (firstSpace <= 0)
        {
            return Fail("the first line is not three parts separated by spaces");
        }

        var rest = line[(firstSpace + 1)..];
        var secondSpace = rest.IndexOf((byte)' ');
        if (secondSpace == 0 || (secondSpace < 0 && rest.IsEmpty))
        {
            return Fail("the first line is not three parts separated by spaces");
        }

        // A status line without a reason phrase ("HTTP/1.1 200") is common enough to accept; for a request
        // the missing version fails below.
        var first = line[..firstSpace];
        var second = secondSpace < 0 ? rest : rest[..secondSpace];
        var third = secondSpace < 0 ? [] : rest[(secondSpace + 1)..];
        if (!HttpSyntax.IsVisible(first) || !HttpSyntax.IsVisible(second) || !HttpSyntax.IsFieldValue(third))
        {
            return Fail("the first line holds control characters, extra spaces or bytes outside ASCII");
        }

        if (StartsWithMethod && !HttpSyntax.IsToken(first))
        {
            return Fail("the method is not a token");
        }

        var version = OnStartLine(first, second, third, firstSpace + 1);
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            IsHttp11 = true;
        }
        else if (version.SequenceEqual("HTTP/1.0"u8))
        {
            IsHttp11 = false;
            Close = true;
        }
        else
        {
            return Fail("only HTTP/1.1 and HTTP/1.0 are spoken here");
        }

        return true;
    }

    /// <summary>Keeps what the subclass needs of the start line; returns the part that is the version (the third for requests, the first for responses).</summary>
    /// <param name="first">The first part.</param>
    /// <param name="second">The second part.</param>
    /// <param name="third">The rest of the line.</param>
    /// <param name="secondOffset">Where <paramref name="second"/> starts in <see cref="Raw"/>.</param>
    protected abstract ReadOnlySpan<byte> OnStartLine(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third, int secondOffset);

    /// <summary>Records why the head is malformed; returns false.</summary>
    protected bool Fail(string error)
    {
        Error = error;
        return false;
    }

    /// <summary>Case-insensitive ASCII comparison of a header name.</summary>
    protected static bool Is(ReadOnlySpan<byte> name, ReadOnlySpan<byte> expected) => Ascii.EqualsIgnoreCase(name, expected);

    private static bool IsListed(ReadOnlySpan<byte> name, List<string> tokens)
    {
        foreach (var token in tokens)
        {
            if (Ascii.EqualsIgnoreCase(name, token))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryParseLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 18)
        {
            return false;
        }

        foreach (var b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            length = (length * 10) + (b - '0');
        }

        return true;
    }

    /// <summary>Trims spaces and tabs.</summary>
    protected static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value.Trim(" \t"u8);
}
