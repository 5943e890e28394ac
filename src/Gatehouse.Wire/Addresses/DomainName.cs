using System.Net;

namespace Gatehouse.Wire.Addresses;

/// <summary>
/// The DNS names the portal keeps (rules, categories, app segments): letters, digits, hyphens and underscores in
/// labels of 1–63 characters, 253 in all, no address. One rule for the portal, which refuses other names, and the CLI,
/// which checks a whole import before it sends any of it.
/// </summary>
public static class DomainName
{
    /// <summary>Trims, drops a final dot and lower-cases <paramref name="value"/>, and checks it.</summary>
    /// <param name="value">The name as written.</param>
    /// <param name="allowWildcard">Whether a leading <c>*.</c> (every subdomain) is allowed.</param>
    /// <param name="domain">The normalised name, when valid.</param>
    public static bool TryNormalise(string? value, bool allowWildcard, out string domain)
    {
        domain = value?.Trim().TrimEnd('.').ToLowerInvariant() ?? "";
        var name = allowWildcard && domain.StartsWith("*.", StringComparison.Ordinal) ? domain[2..] : domain;
        return name.Length is > 0 and <= 253 && name.Split('.').All(IsLabel) && !IPAddress.TryParse(name, out _);
    }

    private static bool IsLabel(string label) =>
        label.Length is > 0 and <= 63
        && label[0] != '-' && label[^1] != '-'
        && label.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_');
}
