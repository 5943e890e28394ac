namespace Gatehouse.Wire.Http;

/// <summary>The character classes of HTTP/1.1's message syntax (RFC 9110 section 5.6, RFC 9112).</summary>
public static class HttpSyntax
{
    /// <summary>Whether <paramref name="text"/> is all <c>tchar</c>: a method, or a field's name. (Empty is not refused here.)</summary>
    public static bool IsToken(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if (b <= 32 || b >= 127 || "\"(),/:;<=>?@[\\]{}"u8.Contains(b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="text"/> is visible ASCII and not empty: a request target, a method or a version holds nothing else (RFC 9112 section 3, RFC 3986).</summary>
    public static bool IsVisible(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if (b <= 32 || b >= 127)
            {
                return false;
            }
        }

        return !text.IsEmpty;
    }

    /// <summary>Whether <paramref name="text"/> can be a field's value: no control character but tab.</summary>
    public static bool IsFieldValue(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if ((b < 32 && b != '\t') || b == 127)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="line"/> (without its CRLF) is a field line, <c>name: value</c>, with a token name.</summary>
    public static bool IsFieldLine(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        return colon > 0 && IsToken(line[..colon]) && IsFieldValue(line[(colon + 1)..]);
    }
}
