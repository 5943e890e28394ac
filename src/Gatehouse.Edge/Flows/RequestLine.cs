using System.Buffers;
using System.Text;
using Gatehouse.Wire.Http;

namespace Gatehouse.Edge.Flows;

/// <summary>What the first line of a flow's bytes is, read as lax HTTP servers read it.</summary>
internal enum RequestLineKind
{
    /// <summary>Too few bytes yet to tell.</summary>
    NeedMore,

    /// <summary>Not an HTTP request: another protocol, which passes unread.</summary>
    NotHttp,

    /// <summary>An HTTP request line this edge cannot read as a server might: the flow is cut.</summary>
    Unreadable,

    /// <summary>A request line without a version (HTTP/0.9's form): no headers follow it.</summary>
    NoHeaders,

    /// <summary>An HTTP/1.0 or HTTP/1.1 request line: a head follows.</summary>
    Head,
}

/// <summary>
/// The first line a flow's client sent, read the way the laxest HTTP servers read it, so that nothing a server would
/// take for a request goes unchecked: empty lines before it are skipped (RFC 9112 section 2.2), any word of capitals
/// is a method (<c>PROPFIND</c> as well as <c>GET</c>), and a target that starts with <c>/</c>, is <c>*</c> or has a
/// scheme makes it a request. A line that is a request but not one this edge reads exactly (another version, a bare
/// LF, extra spaces) is <see cref="RequestLineKind.Unreadable"/>, as nginx, say, may still answer it. Other protocols
/// whose commands look alike (Redis' <c>GET key</c>) have no such target, and pass.
/// </summary>
/// <remarks>
/// Two limits. A method in lower case, which some servers take (Apache, Kestrel; nginx does not), passes unread. A
/// client that sends a word of capitals, or one and a space and letters, and then waits for an answer, waits until it
/// sends more or the flow's idle timeout: those bytes may still become a request.
/// </remarks>
internal sealed record RequestLine(RequestLineKind Kind, string? Method = null, string? Target = null, string? Error = null)
{
    // Longer than any registered method; a longer first word is not HTTP.
    private const int MaxMethodBytes = 32;

    // Longer than any scheme in use; a longer word is not one.
    private const int MaxSchemeBytes = 32;

    // RFC 3986 section 3.1.
    private const string Scheme = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.";

    private static readonly RequestLine NeedMore = new(RequestLineKind.NeedMore);
    private static readonly RequestLine NotHttp = new(RequestLineKind.NotHttp);

    private static readonly SearchValues<char> SchemeCharacters = SearchValues.Create(Scheme);

    // The letters of a method as nginx reads one; other servers take any token, lower case too.
    private static readonly SearchValues<byte> MethodBytes = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZ_-"u8);

    private static readonly SearchValues<byte> SchemeBytes = SearchValues.Create(Encoding.ASCII.GetBytes(Scheme));

    /// <summary>Reads the first line of <paramref name="bytes"/>.</summary>
    /// <param name="bytes">What the client has sent so far.</param>
    /// <param name="maxBytes">How far to look for the line's end.</param>
    /// <param name="searched">How far the search for the line's end has gone: 0 at first, then kept between calls.</param>
    public static RequestLine Read(ReadOnlySequence<byte> bytes, int maxBytes, ref long searched)
    {
        var reader = new SequenceReader<byte>(bytes);
        reader.AdvancePastAny((byte)'\r', (byte)'\n');
        if (reader.End)
        {
            return bytes.Length > maxBytes ? Unreadable("only empty lines") : NeedMore;
        }

        var lineStart = reader.Position;
        Span<byte> start = stackalloc byte[MaxMethodBytes + 1];
        var startLength = (int)Math.Min(reader.Remaining, start.Length);
        reader.UnreadSequence.Slice(0, startLength).CopyTo(start);
        var space = start[..startLength].IndexOfAnyExcept(MethodBytes);
        if (space <= 0 || start[space] != ' ')
        {
            return space < 0 && startLength <= MaxMethodBytes ? NeedMore : NotHttp;
        }

        switch (TargetBegins(reader.UnreadSequence.Slice(space + 1)))
        {
            case null:
                return NeedMore;
            case false:
                return NotHttp;
        }

        reader.Advance(Math.Max(0, searched - reader.Consumed));
        if (!reader.TryAdvanceTo((byte)'\n', advancePastDelimiter: false))
        {
            searched = bytes.Length;
            return bytes.Length > maxBytes ? Unreadable($"no line end in {maxBytes / 1024} KiB") : NeedMore;
        }

        var line = bytes.Slice(lineStart, reader.Position);
        return Parse(line.Length > maxBytes ? [] : line.ToArray());
    }

    private static RequestLine Parse(byte[] line)
    {
        if (line.Length == 0)
        {
            return Unreadable("the line is too long");
        }

        var bareLf = line[^1] != '\r';
        var text = Encoding.Latin1.GetString(line, 0, bareLf ? line.Length : line.Length - 1);
        var parts = text.Split(' ');
        var target = parts[1];
        if (target.Length == 0)
        {
            return Unreadable("extra spaces");
        }

        if (!LooksLikeTarget(target) || text == "PRI * HTTP/2.0")
        {
            // Another protocol's command, or HTTP/2's preface (prior knowledge), whose requests are not read here.
            return NotHttp;
        }

        if (bareLf)
        {
            return Unreadable("it ends in a bare LF");
        }

        if (parts.Length == 2)
        {
            return HttpSyntax.IsVisible(Encoding.Latin1.GetBytes(target))
                ? new RequestLine(RequestLineKind.NoHeaders, RequestMethods.Name(Encoding.Latin1.GetBytes(parts[0])) ?? parts[0], target)
                : Unreadable("the target holds bytes outside ASCII");
        }

        return parts.Length == 3 && parts[2] is "HTTP/1.1" or "HTTP/1.0"
            ? new RequestLine(RequestLineKind.Head)
            : Unreadable($"it is not METHOD TARGET HTTP/1.1 or HTTP/1.0: '{Printable(text)}'");
    }

    /// <summary>
    /// Whether what follows the method begins a target <see cref="LooksLikeTarget"/> takes (or extra spaces, which make
    /// the line unreadable), so that another protocol's command passes at once, not at its line's end. Null while too
    /// few bytes have come to tell.
    /// </summary>
    private static bool? TargetBegins(ReadOnlySequence<byte> rest)
    {
        Span<byte> start = stackalloc byte[MaxSchemeBytes + 3];
        var length = (int)Math.Min(rest.Length, start.Length);
        rest.Slice(0, length).CopyTo(start);
        start = start[..length];
        if (start.IsEmpty)
        {
            return null;
        }

        if (start[0] is (byte)'/' or (byte)'*' or (byte)' ')
        {
            return true;
        }

        if (!char.IsAsciiLetter((char)start[0]))
        {
            return false;
        }

        var schemeEnd = start.IndexOfAnyExcept(SchemeBytes);
        if (schemeEnd < 0)
        {
            return length < MaxSchemeBytes + 3 ? null : false;
        }

        var after = start[schemeEnd..];
        var separator = "://"u8;
        var compared = Math.Min(after.Length, separator.Length);
        if (!after[..compared].SequenceEqual(separator[..compared]))
        {
            return false;
        }

        return compared == separator.Length ? true : null;
    }

    /// <summary>An origin-form (<c>/path</c>), asterisk-form or absolute-form target (<c>scheme://…</c>).</summary>
    private static bool LooksLikeTarget(string target)
    {
        if (target[0] == '/' || target == "*")
        {
            return true;
        }

        var scheme = target.IndexOf("://", StringComparison.Ordinal);
        return scheme > 0 && char.IsAsciiLetter(target[0]) && target.AsSpan(0, scheme).IndexOfAnyExcept(SchemeCharacters) < 0;
    }

    private static string Printable(string text) =>
        string.Create(Math.Min(text.Length, 100), text, (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = source[i] is >= ' ' and < '\u007f' ? source[i] : '?';
            }
        });

    private static RequestLine Unreadable(string error) => new(RequestLineKind.Unreadable, Error: error);
}
