using System.Net;
using System.Net.Mail;
using Gatehouse.Wire.Addresses;

namespace Gatehouse.Portal.Api;

/// <summary>Checks for admin input; each failure names the field at fault.</summary>
public static class Validate
{
    /// <summary>
    /// A trimmed, non-empty name of at most <paramref name="max"/> characters, without control characters or invisible
    /// formatting ones (a zero-width space or a bidi override would make two names look alike).
    /// </summary>
    public static string Name(string? value, string field, int max = 100)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            throw PortalException.Invalid(field, $"{field} must not be empty.");
        }

        if (trimmed.Length > max)
        {
            throw PortalException.Invalid(field, $"{field} must be at most {max} characters.");
        }

        if (trimmed.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format))
        {
            throw PortalException.Invalid(field, $"{field} must not contain control characters or invisible formatting characters.");
        }

        return trimmed;
    }

    /// <summary>
    /// Free text of at most <paramref name="max"/> characters; null becomes empty. Line breaks and tabs are kept; other
    /// control characters (NUL, escape sequences that would recolour or clear an admin's terminal) are refused.
    /// </summary>
    public static string Text(string? value, string field, int max = 1000)
    {
        var text = value?.Trim() ?? "";
        if (text.Length > max)
        {
            throw PortalException.Invalid(field, $"{field} must be at most {max} characters.");
        }

        return text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            ? throw PortalException.Invalid(field, $"{field} must not contain control characters other than line breaks and tabs.")
            : text;
    }

    /// <summary>An email address, lower-cased.</summary>
    public static string Email(string? value, string field)
    {
        var email = Name(value, field, 254).ToLowerInvariant();
        if (!MailAddress.TryCreate(email, out var parsed) || parsed.Address != email || !email.Contains('@', StringComparison.Ordinal))
        {
            throw PortalException.Invalid(field, $"{field} is not an email address: '{value}'.");
        }

        return email;
    }

    /// <summary>
    /// A DNS name (letters, digits, hyphens, dots; labels of 1–63 characters; 253 in all), lower-cased.
    /// With <paramref name="allowWildcard"/>, a leading <c>*.</c> matches every subdomain.
    /// </summary>
    public static string Domain(string? value, string field, bool allowWildcard = true) =>
        DomainName.TryNormalise(value, allowWildcard, out var domain)
            ? domain
            : throw PortalException.Invalid(field, $"{field} is not a domain name: '{value}'.");

    /// <summary>An IPv4 or IPv6 network in CIDR notation (a bare address is a /32 or /128), normalised.</summary>
    /// <remarks>Read strictly (<see cref="AddressLiteral.TryParseNetwork"/>): <c>010.0.0.0/8</c> is refused, not stored as 8.0.0.0/8.</remarks>
    public static string Cidr(string? value, string field)
    {
        if (!AddressLiteral.TryParseNetwork(value, out var network))
        {
            throw PortalException.Invalid(field, $"{field} is not a CIDR network (for example 10.0.0.0/8; IPv4 in four decimal parts without leading zeros): '{value}'.");
        }

        return network.ToString();
    }

    /// <summary>An IPv4 or IPv6 address, read strictly (<see cref="AddressLiteral.TryParse"/>), or null when the text is no address literal.</summary>
    public static IPAddress? AddressOrNull(string? value) => AddressLiteral.TryParse(value?.Trim(), out var address) ? address : null;

    /// <summary>A port (1–65535) or range <c>low-high</c>.</summary>
    public static string PortRange(string? value, string field)
    {
        var text = value?.Trim() ?? "";
        var parts = text.Split('-', 2);
        if (parts.Length == 1 && ushort.TryParse(parts[0], out var port) && port > 0)
        {
            return port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (parts.Length == 2 && ushort.TryParse(parts[0], out var low) && ushort.TryParse(parts[1], out var high) && low > 0 && low <= high)
        {
            return $"{low}-{high}";
        }

        throw PortalException.Invalid(field, $"{field} is not a port or port range (1-65535, for example 443 or 8000-8080): '{value}'.");
    }

    /// <summary>One of the allowed values (case-sensitive, as the API documents them).</summary>
    public static string OneOf(string? value, string field, IReadOnlyCollection<string> allowed) =>
        value is not null && allowed.Contains(value)
            ? value
            : throw PortalException.Invalid(field, $"{field} must be one of {string.Join(", ", allowed)}; got '{value}'.");
}
