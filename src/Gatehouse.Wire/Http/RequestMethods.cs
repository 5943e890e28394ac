namespace Gatehouse.Wire.Http;

/// <summary>The request methods this code knows by name: those of RFC 9110 section 9, and PATCH (RFC 5789).</summary>
public static class RequestMethods
{
    // The most frequent first: the proxy looks up every request's method.
    private static readonly string[] Known = ["GET", "POST", "HEAD", "PUT", "DELETE", "CONNECT", "OPTIONS", "PATCH", "TRACE"];

    /// <summary>The method's name as one shared string, or null for a method not known here (extension methods are valid).</summary>
    public static string? Name(ReadOnlySpan<byte> method)
    {
        foreach (var name in Known)
        {
            if (System.Text.Ascii.Equals(method, name))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="start"/>, the first bytes a client sent, begins a request to an origin server: a known
    /// method other than CONNECT, then a space. Null while the bytes are too few to tell.
    /// </summary>
    public static bool? BeginsOriginRequest(ReadOnlySpan<byte> start)
    {
        var tooFew = false;
        foreach (var name in Known)
        {
            if (name == "CONNECT")
            {
                continue;
            }

            if (start.Length > name.Length)
            {
                if (start[name.Length] == (byte)' ' && System.Text.Ascii.Equals(start[..name.Length], name))
                {
                    return true;
                }
            }
            else
            {
                tooFew |= System.Text.Ascii.Equals(start, name.AsSpan(0, start.Length));
            }
        }

        return tooFew ? null : false;
    }
}
