using System.Text.Json.Serialization;

namespace Gatehouse.Wire.Api;

/// <summary>A URL category: a named set of domains that policy rules refer to.</summary>
public sealed record UrlCategoryDto(Guid Id, string Name, string Description, string Source, long DomainCount, DateTimeOffset CreatedAt);

/// <summary>Creates a category (<c>custom</c>, or <c>imported</c> from a squidGuard/UT1 folder), with its first domains.</summary>
public sealed record CreateUrlCategoryRequest(string Name, string? Description = null, string? Source = null, IReadOnlyList<string>? Domains = null);

/// <summary>Adds domains to a category in one chunk; <see cref="Replace"/> first empties it.</summary>
public sealed record AddCategoryDomainsRequest(IReadOnlyList<string> Domains, bool Replace = false);

/// <summary>How many domains a change added and how many the category holds now.</summary>
public sealed record CategoryDomainsResult(int Added, long DomainCount);

/// <summary>A private application: domains and/or networks with ports, reached through connectors.</summary>
public sealed record AppSegmentDto(
    Guid Id,
    string Name,
    string Description,
    bool Enabled,
    IReadOnlyList<string> Domains,
    IReadOnlyList<string> Cidrs,
    IReadOnlyList<string> Ports,
    Guid? SegmentGroupId,
    IReadOnlyList<Guid> ConnectorGroupIds,
    IReadOnlyList<Guid> ServerGroupIds);

/// <summary>Creates or replaces an app segment. Optional fields may be left out; ports are required (a missing list is refused as <c>ports</c>).</summary>
public sealed record AppSegmentRequest(
    string Name,
    string? Description = null,
    bool? Enabled = null,
    IReadOnlyList<string>? Domains = null,
    IReadOnlyList<string>? Cidrs = null,
    IReadOnlyList<string>? Ports = null,
    Guid? SegmentGroupId = null,
    IReadOnlyList<Guid>? ConnectorGroupIds = null,
    IReadOnlyList<Guid>? ServerGroupIds = null);

/// <summary>A named set of app segments that access rules grant.</summary>
public sealed record SegmentGroupDto(Guid Id, string Name, string Description);

/// <summary>A set of app connectors that serve the same segments.</summary>
public sealed record ConnectorGroupDto(Guid Id, string Name, string Description);

/// <summary>Creates or renames a segment group or connector group.</summary>
public sealed record NamedObjectRequest(string Name, string? Description = null);

/// <summary>Forwarding actions per kind of network.</summary>
public static class ForwardingActions
{
    /// <summary>Send traffic through a tunnel to an edge.</summary>
    public const string Tunnel = "tunnel";
    /// <summary>Offer the agent's local proxy (PAC) only.</summary>
    public const string LocalProxy = "local-proxy";
    /// <summary>Leave traffic alone.</summary>
    public const string None = "none";

    /// <summary>All actions.</summary>
    public static readonly IReadOnlyList<string> All = [Tunnel, LocalProxy, None];
}

/// <summary>What the agent does on a trusted, an untrusted and a VPN network.</summary>
public sealed record ForwardingProfileDto(Guid Id, string Name, string Trusted, string Untrusted, string Vpn);

/// <summary>Creates or replaces a forwarding profile.</summary>
public sealed record ForwardingProfileRequest(string Name, string Trusted, string Untrusted, string Vpn);

/// <summary>How the agent tells a trusted network; every criterion given must hold.</summary>
/// <remarks>
/// Unknown fields are refused, here and in the checks below, wherever they are read: a criterion an agent dropped
/// would make more networks trusted than the admin wrote (and traffic leave the tunnel there), so an agent refuses
/// a bundle holding one it does not know and keeps the previous bundle.
/// </remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrustedNetworkCriteria(
    IReadOnlyList<string>? DnsServers = null,
    IReadOnlyList<string>? SearchDomains = null,
    HostResolvesCheck? HostResolves = null,
    TlsBeaconCheck? Beacon = null);

/// <summary>A host name that must resolve to an expected address.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record HostResolvesCheck(string Host, string Address);

/// <summary>A TLS server whose certificate must have this SHA-256 fingerprint (hex).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TlsBeaconCheck(string Address, string Sha256);

/// <summary>Agent behaviour for a set of users: failure mode, trusted-network criteria, passwords.</summary>
public sealed record AppProfileDto(
    Guid Id,
    string Name,
    int Priority,
    IReadOnlyList<Guid> GroupIds,
    string FailMode,
    TrustedNetworkCriteria TrustedNetwork,
    Guid? ForwardingProfileId,
    int CaptivePortalPauseMinutes,
    bool HasLogoutPassword,
    bool HasDisablePassword);

/// <summary>Creates or replaces an app profile; fields other than the name and fail mode may be left out. Passwords are hashed; null keeps the current one, "" removes it.</summary>
public sealed record AppProfileRequest(
    string Name,
    int? Priority = null,
    IReadOnlyList<Guid>? GroupIds = null,
    string? FailMode = null,
    TrustedNetworkCriteria? TrustedNetwork = null,
    Guid? ForwardingProfileId = null,
    int? CaptivePortalPauseMinutes = null,
    string? LogoutPassword = null,
    string? DisablePassword = null);

/// <summary>Failure modes when no edge answers.</summary>
public static class FailModes
{
    /// <summary>Let traffic go direct.</summary>
    public const string Open = "open";
    /// <summary>Drop traffic.</summary>
    public const string Closed = "closed";

    /// <summary>All modes.</summary>
    public static readonly IReadOnlyList<string> All = [Open, Closed];
}

/// <summary>How a connector checks the servers of a server group.</summary>
public static class HealthCheckKinds
{
    /// <summary>A TCP connection opens.</summary>
    public const string Tcp = "tcp";

    /// <summary>An HTTP GET of the group's path answers 2xx or 3xx.</summary>
    public const string Http = "http";

    /// <summary>Every kind.</summary>
    public static readonly IReadOnlyList<string> All = [Tcp, Http];
}

/// <summary>
/// The app servers behind app segments, and how connectors check them: a server that fails its check gets no
/// new flows until it passes again.
/// </summary>
/// <param name="Id">Stable id.</param>
/// <param name="Name">Unique within the tenant.</param>
/// <param name="Description">Free text.</param>
/// <param name="Servers">Host names or addresses, as the connectors resolve them.</param>
/// <param name="HealthCheck"><see cref="HealthCheckKinds"/>.</param>
/// <param name="HealthPath">The path an <c>http</c> check asks for.</param>
public sealed record ServerGroupDto(Guid Id, string Name, string Description, IReadOnlyList<string> Servers, string HealthCheck, string HealthPath);

/// <summary>A server group to create or replace.</summary>
/// <param name="Name">Unique within the tenant.</param>
/// <param name="Description">Free text.</param>
/// <param name="Servers">Host names or addresses (at least one).</param>
/// <param name="HealthCheck"><see cref="HealthCheckKinds"/>; <c>tcp</c> when left out.</param>
/// <param name="HealthPath">The path of an <c>http</c> check; <c>/</c> when left out.</param>
public sealed record ServerGroupRequest(string Name, string? Description = null, IReadOnlyList<string>? Servers = null, string? HealthCheck = null, string? HealthPath = null);
