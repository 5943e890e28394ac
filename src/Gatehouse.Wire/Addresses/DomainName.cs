using System.Net;

namespace Gatehouse.Wire.Addresses;

/// <summary>
/// The DNS names the portal keeps (rules, categories, app segments): letters, digits, hyphens and underscores in
/// labels of 1–63 characters, 253 in all, no address. One rule for the portal, which refuses other names, the CLI,
/// which checks a whole import before it sends any of it, and the edge, which reads a TLS server name only when a
/// rule could name it.
/// </summary>
public static class DomainName
{
    /// <summary>The longest name, without a final dot.</summary>
    public const int MaxLength = 253;

    private const int MaxLabelLength = 63;

    /// <summary>Trims, drops a final dot and lower-cases <paramref name="value"/>, and checks it.</summary>
    /// <param name="value">The name as written.</param>
    /// <param name="allowWildcard">Whether a leading <c>*.</c> (every subdomain) is allowed.</param>
    /// <param name="domain">The normalised name, when valid.</param>
    public static bool TryNormalise(string? value, bool allowWildcard, out string domain)
    {
        domain = value?.Trim().TrimEnd('.').ToLowerInvariant() ?? "";
        var name = allowWildcard && domain.StartsWith("*.", StringComparison.Ordinal) ? domain[2..] : domain;
        return name.Length is > 0 and <= MaxLength && name.Split('.').All(l => IsLabel(l.AsSpan())) && !IPAddress.TryParse(name, out _);
    }

    /// <summary>
    /// Whether ASCII bytes are a host name by the same rule (letters of either case, no final dot): no control bytes,
    /// no bytes outside ASCII, no empty or overlong label. Addresses written as names pass (their bytes are a name's).
    /// </summary>
    /// <param name="name">The name's bytes.</param>
    public static bool IsHostName(ReadOnlySpan<byte> name)
    {
        if (name.Length is 0 or > MaxLength)
        {
            return false;
        }

        Span<char> label = stackalloc char[MaxLabelLength];
        foreach (var range in name.Split((byte)'.'))
        {
            var bytes = name[range];
            if (bytes.Length > MaxLabelLength)
            {
                return false;
            }

            for (var i = 0; i < bytes.Length; i++)
            {
                label[i] = (char)bytes[i]; // bytes outside ASCII become characters outside it, which no label has
            }

            if (!IsLabel(label[..bytes.Length]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsLabel(ReadOnlySpan<char> label)
    {
        if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-')
        {
            return false;
        }

        foreach (var c in label)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
