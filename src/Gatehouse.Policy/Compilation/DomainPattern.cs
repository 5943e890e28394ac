namespace Gatehouse.Policy.Compilation;

/// <summary>
/// Domain names as rules, categories and app segments write them: lower-cased, without a final
/// dot, labels of 1–63 letters, digits, hyphens or underscores (not starting or ending with a
/// hyphen), 253 characters in all, not an IP address; a leading <c>*.</c> marks a wildcard.
/// </summary>
internal static class DomainPattern
{
    /// <summary>Normalises <paramref name="text"/>; on success <paramref name="pattern"/> is lower case, <c>*.</c> included.</summary>
    public static bool TryParse(string? text, bool allowWildcard, out string pattern, out bool wildcard, out string reason)
    {
        pattern = "";
        wildcard = false;
        reason = "";
        var value = (text ?? "").Trim();
        if (value.EndsWith('.'))
        {
            value = value[..^1];
        }

        value = value.ToLowerInvariant();
        var name = value.AsSpan();
        if (name.StartsWith("*."))
        {
            if (!allowWildcard)
            {
                reason = $"'{text}' is not a domain name (no wildcard here)";
                return false;
            }

            wildcard = true;
            name = name[2..];
        }

        if (!IsName(name))
        {
            reason = $"'{text}' is not a domain name (labels of letters, digits, '-' or '_', optionally starting with '*.')";
            return false;
        }

        pattern = value;
        return true;
    }

    /// <summary>True when <paramref name="name"/> is a lower-case DNS name (no wildcard) and not an IP address.</summary>
    public static bool IsName(ReadOnlySpan<char> name)
    {
        if (name.Length is 0 or > 253)
        {
            return false;
        }

        var labelLength = 0;
        var labelDigitsOnly = true;
        for (var i = 0; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] == '.')
            {
                if (labelLength is 0 or > 63 || name[i - 1] == '-' || name[i - labelLength] == '-')
                {
                    return false;
                }

                if (i == name.Length && labelDigitsOnly)
                {
                    // A top-level label of digits only makes it an IPv4 address, not a name.
                    return false;
                }

                labelLength = 0;
                labelDigitsOnly = true;
                continue;
            }

            var c = name[i];
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_'))
            {
                return false;
            }

            labelDigitsOnly &= c is >= '0' and <= '9';
            labelLength++;
        }

        return true;
    }
}
