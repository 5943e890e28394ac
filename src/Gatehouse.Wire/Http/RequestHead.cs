namespace Gatehouse.Wire.Http;

/// <summary>A request head: method, target (absolute-form, authority-form for CONNECT, or origin-form), and the headers the proxy reads.</summary>
public sealed class RequestHead : HttpHead
{
    /// <summary>The method.</summary>
    public string Method { get; private set; } = string.Empty;

    /// <summary>The request target as sent.</summary>
    public string Target { get; private set; } = string.Empty;

    /// <summary>The <c>Proxy-Authorization</c> value.</summary>
    public string? ProxyAuthorization { get; private set; }

    /// <summary>
    /// The <c>Host</c> header's value (<c>name[:port]</c>), or null when the request has none. Made on demand: the
    /// head keeps only where it is, so a proxy that never asks pays nothing.
    /// </summary>
    public string? Host => _hostLength < 0 ? null : System.Text.Encoding.ASCII.GetString(Raw.Slice(_hostStart, _hostLength));

    /// <summary>The client asked for <c>100-continue</c>.</summary>
    public bool ExpectContinue { get; private set; }

    /// <summary>The request carries a body.</summary>
    public bool HasBody => Chunked || ContentLength > 0;

    /// <summary>The method is CONNECT.</summary>
    public bool IsConnect => Method == "CONNECT";

    /// <summary>The method is HEAD (the response has no body).</summary>
    public bool IsHead => Method == "HEAD";

    /// <inheritdoc />
    protected override bool RejectsLengthWithTransferEncoding => true;

    /// <inheritdoc />
    protected override bool StartsWithMethod => true;

    /// <inheritdoc />
    protected override ReadOnlySpan<byte> OnStartLine(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third, int secondOffset)
    {
        Method = RequestMethods.Name(first) ?? System.Text.Encoding.ASCII.GetString(first);
        Target = System.Text.Encoding.ASCII.GetString(second);
        return third;
    }

    /// <inheritdoc />
    protected override void Reset()
    {
        base.Reset();
        ProxyAuthorization = null;
        ExpectContinue = false;
        _transferEncodingSeen = false;
        _hostLength = -1;
    }

    private string? _lastAuthorization;

    private bool _transferEncodingSeen;

    private int _hostStart;

    private int _hostLength = -1;

    /// <inheritdoc />
    protected override bool IsHopByHop(ReadOnlySpan<byte> name) => base.IsHopByHop(name) || Is(name, "Host"u8);

    /// <inheritdoc />
    protected override bool OnOtherHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (Is(name, "Proxy-Authorization"u8))
        {
            if (ProxyAuthorization is not null)
            {
                return Fail("two Proxy-Authorization headers");
            }

            // A kept-alive client sends the same credentials every time: the string of the last request is reused.
            ProxyAuthorization = _lastAuthorization is { } last && System.Text.Ascii.Equals(value, last)
                ? last
                : _lastAuthorization = System.Text.Encoding.ASCII.GetString(value);
        }
        else if (Is(name, "Host"u8))
        {
            // RFC 9112 section 3.2: a request with two Host headers is refused, whichever one a server would read.
            if (_hostLength >= 0)
            {
                return Fail("two Host headers");
            }

            if (!Raw.Overlaps(value, out _hostStart))
            {
                throw new InvalidOperationException("A header value is read from the head it is in.");
            }

            _hostLength = value.Length;
        }
        else if (Is(name, "Expect"u8))
        {
            ExpectContinue = System.Text.Ascii.EqualsIgnoreCase(value, "100-continue"u8);
        }
        else if (Is(name, "Transfer-Encoding"u8))
        {
            // Only chunked, once: "gzip, chunked", "chunked, chunked" or a second header line are framed by the last chunked
            // here, and a destination that reads them another way would take the rest of the body as more requests.
            if (_transferEncodingSeen)
            {
                return Fail("two Transfer-Encoding headers");
            }

            _transferEncodingSeen = true;
            if (!System.Text.Ascii.EqualsIgnoreCase(value, "chunked"u8))
            {
                return Fail("Transfer-Encoding other than chunked");
            }
        }

        return true;
    }
}

/// <summary>A response head: status and the framing of its body.</summary>
public sealed class ResponseHead : HttpHead
{
    /// <summary>The status code, or 0 when the status line is not valid.</summary>
    public int Status { get; private set; }

    /// <inheritdoc />
    protected override bool RejectsLengthWithTransferEncoding => false;

    /// <summary>Where the status code starts in <see cref="HttpHead.Raw"/>: the status line from there on is sent on as it is.</summary>
    public int StatusOffset { get; private set; }

    /// <summary>The status line's end in <see cref="HttpHead.Raw"/>.</summary>
    public int StatusLineEnd { get; private set; }

    /// <inheritdoc />
    protected override ReadOnlySpan<byte> OnStartLine(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, ReadOnlySpan<byte> third, int secondOffset)
    {
        Status = second.Length == 3 && int.TryParse(second, out var status) && status is >= 100 and <= 999 ? status : 0;
        StatusOffset = secondOffset;
        var lineEnd = Raw.IndexOf("\r\n"u8);
        StatusLineEnd = lineEnd < 0 ? Raw.Length : lineEnd;
        return Status == 0 ? "invalid"u8 : first;
    }

    /// <inheritdoc />
    protected override bool IsHopByHop(ReadOnlySpan<byte> name) => base.IsHopByHop(name) || (HasTransferEncoding && Is(name, "Content-Length"u8));

    /// <summary>How the body of this response is framed, given the request.</summary>
    /// <param name="requestWasHead">The request was HEAD.</param>
    public BodyFraming Framing(bool requestWasHead)
    {
        if (requestWasHead || Status is < 200 or 204 or 304)
        {
            return BodyFraming.None;
        }

        if (HasTransferEncoding)
        {
            return Chunked ? BodyFraming.Chunked : BodyFraming.UntilClose;
        }

        return ContentLength >= 0 ? BodyFraming.Length : BodyFraming.UntilClose;
    }
}

/// <summary>How a message body ends.</summary>
public enum BodyFraming
{
    /// <summary>No body.</summary>
    None,

    /// <summary>After Content-Length bytes.</summary>
    Length,

    /// <summary>After the last chunk and the trailers.</summary>
    Chunked,

    /// <summary>When the sender closes the connection.</summary>
    UntilClose,
}
