using System.Globalization;
using Gatehouse.Portal.Api;

namespace Gatehouse.Portal.Edges;

/// <summary>Where agents reach an edge's tunnel listener: <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[::1]:port</c>.</summary>
public static class EdgeAddress
{
    /// <summary>Checks and normalises (lower-cases the host of) an edge address.</summary>
    public static string Validate(string? value, string field)
    {
        var text = value?.Trim() ?? "";
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0)
        {
            throw PortalException.Invalid(field, $"{field} must be host:port with a port of 1-65535 (for example edge1.example.com:7444); got '{value}'.");
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            return Api.Validate.AddressOrNull(host) is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6
                ? $"[{v6}]:{port}"
                : throw PortalException.Invalid(field, $"{field} has a bracketed host that is not an IPv6 address: '{value}'.");
        }

        if (Api.Validate.AddressOrNull(host) is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } v4)
        {
            return $"{v4}:{port}";
        }

        return $"{Api.Validate.Domain(host, field, allowWildcard: false)}:{port}";
    }
}
