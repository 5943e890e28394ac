using System.Globalization;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Profiles;

/// <summary>Forwarding profiles and app profiles of the caller's tenant.</summary>
internal static class ProfileEndpoints
{
    /// <summary>The shortest logout or disable password accepted.</summary>
    public const int MinPasswordLength = 8;

    public static RouteGroupBuilder MapProfiles(this RouteGroupBuilder api)
    {
        var forwarding = api.MapGroup("/forwarding-profiles").WithTags("forwarding-profiles");
        forwarding.MapGet("/", ListForwardingAsync);
        forwarding.MapGet("/{id:guid}", GetForwardingAsync);
        forwarding.MapPost("/", CreateForwardingAsync).RequireAuthorization(AuthPolicies.Write);
        forwarding.MapPut("/{id:guid}", UpdateForwardingAsync).RequireAuthorization(AuthPolicies.Write);
        forwarding.MapDelete("/{id:guid}", DeleteForwardingAsync).RequireAuthorization(AuthPolicies.Write);

        var app = api.MapGroup("/app-profiles").WithTags("app-profiles");
        app.MapGet("/", ListAppAsync);
        app.MapGet("/{id:guid}", GetAppAsync);
        app.MapPost("/", CreateAppAsync).RequireAuthorization(AuthPolicies.Write);
        app.MapPut("/{id:guid}", UpdateAppAsync).RequireAuthorization(AuthPolicies.Write);
        app.MapDelete("/{id:guid}", DeleteAppAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<Page<ForwardingProfileDto>> ListForwardingAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Set<ForwardingProfile>().AsNoTracking().PageAsync(p => p.Id, cursor, limit, p => p.ToDto(), ct);

    private static async Task<ForwardingProfileDto> GetForwardingAsync(Guid id, PortalDbContext db, CancellationToken ct) =>
        (await FindForwardingAsync(db, id, ct)).ToDto();

    private static async Task<ForwardingProfile> FindForwardingAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<ForwardingProfile>().FirstOrDefaultAsync(p => p.Id == id, ct) ?? throw PortalException.NotFound("Forwarding profile");

    private static async Task<IResult> CreateForwardingAsync(ForwardingProfileRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var profile = new ForwardingProfile
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = caller.TenantId,
            Name = "",
            Trusted = "",
            Untrusted = "",
            Vpn = "",
            CreatedAt = time.GetUtcNow(),
        };
        await ApplyAsync(db, profile, request, ct);
        db.Set<ForwardingProfile>().Add(profile);
        audit.Record("forwarding-profile.create", "forwarding-profile", profile.Id, null, profile.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/forwarding-profiles/{profile.Id}", profile.ToDto());
    }

    private static async Task<ForwardingProfileDto> UpdateForwardingAsync(Guid id, ForwardingProfileRequest request, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var profile = await FindForwardingAsync(db, id, ct);
        var before = profile.ToDto();
        await ApplyAsync(db, profile, request, ct);
        audit.Record("forwarding-profile.update", "forwarding-profile", profile.Id, before, profile.ToDto());
        await db.SaveChangesAsync(ct);
        return profile.ToDto();
    }

    private static async Task<IResult> DeleteForwardingAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var profile = await FindForwardingAsync(db, id, ct);
        var user = await db.Set<AppProfile>().Where(p => p.ForwardingProfileId == id).OrderBy(p => p.Name).Select(p => p.Name).FirstOrDefaultAsync(ct);
        if (user is not null)
        {
            throw PortalException.Conflict($"The forwarding profile '{profile.Name}' is used by the app profile '{user}'.");
        }

        db.Set<ForwardingProfile>().Remove(profile);
        audit.Record("forwarding-profile.delete", "forwarding-profile", profile.Id, profile.ToDto(), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    private static async Task ApplyAsync(PortalDbContext db, ForwardingProfile profile, ForwardingProfileRequest request, CancellationToken ct)
    {
        var name = Validate.Name(request.Name, "name");
        var trusted = Validate.OneOf(request.Trusted, "trusted", ForwardingActions.All);
        var untrusted = Validate.OneOf(request.Untrusted, "untrusted", ForwardingActions.All);
        var vpn = Validate.OneOf(request.Vpn, "vpn", ForwardingActions.All);
        if (name != profile.Name && await db.Set<ForwardingProfile>().AnyAsync(p => p.Name == name && p.Id != profile.Id, ct))
        {
            throw PortalException.Conflict($"A forwarding profile named '{name}' already exists.", "name");
        }

        profile.Name = name;
        profile.Trusted = trusted;
        profile.Untrusted = untrusted;
        profile.Vpn = vpn;
    }

    private static async Task<Page<AppProfileDto>> ListAppAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Set<AppProfile>().AsNoTracking().PageAsync(p => p.Id, cursor, limit, p => p.ToDto(), ct);

    private static async Task<AppProfileDto> GetAppAsync(Guid id, PortalDbContext db, CancellationToken ct) =>
        (await FindAppAsync(db, id, ct)).ToDto();

    private static async Task<AppProfile> FindAppAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<AppProfile>().FirstOrDefaultAsync(p => p.Id == id, ct) ?? throw PortalException.NotFound("App profile");

    private static async Task<IResult> CreateAppAsync(AppProfileRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var profile = new AppProfile { Id = Guid.CreateVersion7(time.GetUtcNow()), TenantId = caller.TenantId, Name = "", FailMode = "", CreatedAt = time.GetUtcNow() };
        await ApplyAsync(db, profile, request, ct);
        db.Set<AppProfile>().Add(profile);
        audit.Record("app-profile.create", "app-profile", profile.Id, null, profile.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/app-profiles/{profile.Id}", profile.ToDto());
    }

    private static async Task<AppProfileDto> UpdateAppAsync(Guid id, AppProfileRequest request, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var profile = await FindAppAsync(db, id, ct);
        var before = profile.ToDto();
        await ApplyAsync(db, profile, request, ct);
        audit.Record("app-profile.update", "app-profile", profile.Id, before, profile.ToDto());
        await db.SaveChangesAsync(ct);
        return profile.ToDto();
    }

    private static async Task<IResult> DeleteAppAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var profile = await FindAppAsync(db, id, ct);
        db.Set<AppProfile>().Remove(profile);
        audit.Record("app-profile.delete", "app-profile", profile.Id, profile.ToDto(), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>Checks a request and copies it onto the profile; passwords are hashed here and never leave as text.</summary>
    private static async Task ApplyAsync(PortalDbContext db, AppProfile profile, AppProfileRequest request, CancellationToken ct)
    {
        var name = Validate.Name(request.Name, "name");
        var priority = request.Priority ?? 100;
        if (priority is < 0 or > 1000)
        {
            throw PortalException.Invalid("priority", $"priority must be between 0 and 1000; got {priority}.");
        }

        var pause = request.CaptivePortalPauseMinutes ?? 10;
        if (pause is < 0 or > 60)
        {
            throw PortalException.Invalid("captivePortalPauseMinutes", $"captivePortalPauseMinutes must be between 0 and 60; got {pause}.");
        }

        var failMode = Validate.OneOf(request.FailMode, "failMode", FailModes.All);
        var trustedNetwork = TrustedNetwork(request.TrustedNetwork);
        if (request.ForwardingProfileId is { } forwardingId && !await db.Set<ForwardingProfile>().AnyAsync(p => p.Id == forwardingId, ct))
        {
            throw PortalException.Invalid("forwardingProfileId", $"No forwarding profile {forwardingId} exists.");
        }

        var groupIds = request.GroupIds?.Distinct().ToList() ?? [];
        var known = await db.Groups.Where(g => groupIds.Contains(g.Id)).Select(g => g.Id).ToListAsync(ct);
        var missing = groupIds.FindIndex(g => !known.Contains(g));
        if (missing >= 0)
        {
            throw PortalException.Invalid($"groupIds[{missing}]", $"No group {groupIds[missing]} exists.");
        }

        var logout = Password(request.LogoutPassword, "logoutPassword", profile.LogoutPasswordHash);
        var disable = Password(request.DisablePassword, "disablePassword", profile.DisablePasswordHash);
        if (name != profile.Name && await db.Set<AppProfile>().AnyAsync(p => p.Name == name && p.Id != profile.Id, ct))
        {
            throw PortalException.Conflict($"An app profile named '{name}' already exists.", "name");
        }

        profile.Name = name;
        profile.Priority = priority;
        profile.GroupIds = groupIds;
        profile.FailMode = failMode;
        profile.TrustedNetwork = trustedNetwork;
        profile.ForwardingProfileId = request.ForwardingProfileId;
        profile.CaptivePortalPauseMinutes = pause;
        profile.LogoutPasswordHash = logout;
        profile.DisablePasswordHash = disable;
    }

    /// <summary>Null keeps the current hash, "" removes it, anything else of at least 8 characters replaces it.</summary>
    private static string? Password(string? value, string field, string? current) => value switch
    {
        null => current,
        "" => null,
        { Length: < MinPasswordLength } => throw PortalException.Invalid(field, $"{field} must be at least {MinPasswordLength} characters."),
        _ => PasswordHasher.Hash(value),
    };

    /// <summary>Checks and normalises trusted-network criteria; an absent list stays absent.</summary>
    private static TrustedNetworkCriteria TrustedNetwork(TrustedNetworkCriteria? criteria)
    {
        const string f = "trustedNetwork";
        if (criteria is null)
        {
            return new TrustedNetworkCriteria(null, null, null, null);
        }

        var dns = criteria.DnsServers?.Select((v, i) => Address(v, $"{f}.dnsServers[{i}]")).Distinct().ToList();
        var search = criteria.SearchDomains?.Select((v, i) => Validate.Domain(v, $"{f}.searchDomains[{i}]", allowWildcard: false)).Distinct().ToList();
        var resolves = criteria.HostResolves is { } h
            ? new HostResolvesCheck(Validate.Domain(h.Host, $"{f}.hostResolves.host", allowWildcard: false), Address(h.Address, $"{f}.hostResolves.address"))
            : null;
        var beacon = criteria.Beacon is { } b
            ? new TlsBeaconCheck(HostPort(b.Address, $"{f}.beacon.address"), Sha256(b.Sha256, $"{f}.beacon.sha256"))
            : null;
        return new TrustedNetworkCriteria(dns is { Count: > 0 } ? dns : null, search is { Count: > 0 } ? search : null, resolves, beacon);
    }

    private static string Address(string? value, string field) =>
        Validate.AddressOrNull(value)?.ToString()
            ?? throw PortalException.Invalid(field, $"{field} is not an IP address (IPv4 in four decimal parts without leading zeros): '{value}'.");

    /// <summary><c>host:port</c>, where host is a domain, an IPv4 address or a bracketed IPv6 address.</summary>
    private static string HostPort(string? value, string field)
    {
        var text = value?.Trim() ?? "";
        var colon = text.LastIndexOf(':');
        if (colon > 0 && ushort.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port > 0)
        {
            var host = text[..colon];
            if (host.StartsWith('[') && host.EndsWith(']') && Validate.AddressOrNull(host) is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6)
            {
                return $"[{v6}]:{port}";
            }

            if (!host.Contains(':', StringComparison.Ordinal))
            {
                var normalised = Validate.AddressOrNull(host)?.ToString() ?? TryDomain(host);
                if (normalised is not null)
                {
                    return $"{normalised}:{port}";
                }
            }
        }

        throw PortalException.Invalid(field, $"{field} must be host:port (for example beacon.corp.example:443); got '{value}'.");
    }

    private static string? TryDomain(string host)
    {
        try
        {
            return Validate.Domain(host, "host", allowWildcard: false);
        }
        catch (PortalException)
        {
            return null;
        }
    }

    private static string Sha256(string? value, string field)
    {
        var hex = value?.Trim().ToLowerInvariant() ?? "";
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit)
            ? hex
            : throw PortalException.Invalid(field, $"{field} must be a SHA-256 fingerprint of 64 hex characters.");
    }
}
