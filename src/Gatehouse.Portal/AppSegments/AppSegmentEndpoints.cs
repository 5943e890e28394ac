using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Connectors;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.AppSegments;

/// <summary>App segments, segment groups and connector groups of the caller's tenant.</summary>
internal static class AppSegmentEndpoints
{
    public static RouteGroupBuilder MapAppSegments(this RouteGroupBuilder api)
    {
        var segments = api.MapGroup("/app-segments").WithTags("app-segments");
        segments.MapGet("/", ListSegmentsAsync);
        segments.MapGet("/{id:guid}", GetSegmentAsync);
        segments.MapPost("/", CreateSegmentAsync).RequireAuthorization(AuthPolicies.Write);
        segments.MapPut("/{id:guid}", UpdateSegmentAsync).RequireAuthorization(AuthPolicies.Write);
        segments.MapDelete("/{id:guid}", DeleteSegmentAsync).RequireAuthorization(AuthPolicies.Write);

        new NamedGroupEndpoints<SegmentGroup, SegmentGroupDto>(
            "segment-groups", "segment-group", "segment group", () => new SegmentGroup { Name = "" }, g => g.ToDto(), SegmentInGroupAsync, c => c.SegmentGroups).Map(api);
        new NamedGroupEndpoints<ConnectorGroup, ConnectorGroupDto>(
            "connector-groups", "connector-group", "connector group", () => new ConnectorGroup { Name = "" }, g => g.ToDto(), ConnectorGroupUserAsync).Map(api);
        ServerGroupEndpoints.Map(api, SegmentBackedByAsync);
        return api;
    }

    private static async Task<Page<AppSegmentDto>> ListSegmentsAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Set<AppSegment>().AsNoTracking().PageAsync(s => s.Id, cursor, limit, s => s.ToDto(), ct);

    private static async Task<AppSegmentDto> GetSegmentAsync(Guid id, PortalDbContext db, CancellationToken ct) =>
        (await FindSegmentAsync(db, id, ct)).ToDto();

    private static async Task<AppSegment> FindSegmentAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<AppSegment>().FirstOrDefaultAsync(s => s.Id == id, ct) ?? throw PortalException.NotFound("App segment");

    private static async Task<IResult> CreateSegmentAsync(AppSegmentRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var segment = new AppSegment { Id = Guid.CreateVersion7(time.GetUtcNow()), TenantId = caller.TenantId, Name = "", CreatedAt = time.GetUtcNow() };
        await ApplyAsync(db, segment, request, ct);
        db.Set<AppSegment>().Add(segment);
        audit.Record("app-segment.create", "app-segment", segment.Id, null, segment.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/app-segments/{segment.Id}", segment.ToDto());
    }

    private static async Task<AppSegmentDto> UpdateSegmentAsync(Guid id, AppSegmentRequest request, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var segment = await FindSegmentAsync(db, id, ct);
        var before = segment.ToDto();
        await ApplyAsync(db, segment, request, ct);
        // Rules name segments, so a rename would silently detach them.
        if (segment.Name != before.Name && await PolicyValidation.FindRuleNamingAsync(db, c => c.AppSegments, before.Name, ct) is { } rule)
        {
            throw PortalException.Conflict($"The app segment '{before.Name}' is used by {rule}; change the rule before renaming it.", "name");
        }

        // A disabled segment leaves the bundle, as a deleted one does: the rule would name nothing, and edges refuse that.
        if (!segment.Enabled && before.Enabled && await PolicyValidation.FindRuleNamingAsync(db, c => c.AppSegments, before.Name, ct) is { } user)
        {
            throw PortalException.Conflict($"The app segment '{before.Name}' is used by {user}; change the rule before disabling it.", "enabled");
        }

        audit.Record("app-segment.update", "app-segment", segment.Id, before, segment.ToDto());
        await db.SaveChangesAsync(ct);
        return segment.ToDto();
    }

    private static async Task<IResult> DeleteSegmentAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var segment = await FindSegmentAsync(db, id, ct);
        if (await PolicyValidation.FindRuleNamingAsync(db, c => c.AppSegments, segment.Name, ct) is { } rule)
        {
            throw PortalException.Conflict($"The app segment '{segment.Name}' is used by {rule}.");
        }

        db.Set<AppSegment>().Remove(segment);
        audit.Record("app-segment.delete", "app-segment", segment.Id, segment.ToDto(), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>Checks a request and copies it onto the segment; referenced groups must exist in the tenant.</summary>
    private static async Task ApplyAsync(PortalDbContext db, AppSegment segment, AppSegmentRequest request, CancellationToken ct)
    {
        var name = Validate.Name(request.Name, "name");
        var domains = Distinct(request.Domains, "domains", (v, f) => Validate.Domain(v, f));
        var cidrs = Distinct(request.Cidrs, "cidrs", Validate.Cidr);
        if (domains.Count == 0 && cidrs.Count == 0)
        {
            throw PortalException.Invalid("domains", "An app segment needs at least one domain or CIDR.");
        }

        var ports = Distinct(request.Ports, "ports", Validate.PortRange);
        if (ports.Count == 0)
        {
            throw PortalException.Invalid("ports", "An app segment needs at least one port or port range.");
        }

        if (request.SegmentGroupId is { } groupId && !await db.Set<SegmentGroup>().AnyAsync(g => g.Id == groupId, ct))
        {
            throw PortalException.Invalid("segmentGroupId", $"No segment group {groupId} exists.");
        }

        var connectorGroupIds = await ExistingAsync(db.Set<ConnectorGroup>(), request.ConnectorGroupIds, "connectorGroupIds", "connector group", ct);
        var serverGroupIds = await ExistingAsync(db.Set<ServerGroup>(), request.ServerGroupIds, "serverGroupIds", "server group", ct);

        if (name != segment.Name && await db.Set<AppSegment>().AnyAsync(s => s.Name == name && s.Id != segment.Id, ct))
        {
            throw PortalException.Conflict($"An app segment named '{name}' already exists.", "name");
        }

        segment.Name = name;
        segment.Description = Validate.Text(request.Description, "description");
        segment.Enabled = request.Enabled ?? true;
        segment.Domains = domains;
        segment.Cidrs = cidrs;
        segment.Ports = ports;
        segment.SegmentGroupId = request.SegmentGroupId;
        segment.ConnectorGroupIds = connectorGroupIds;
        segment.ServerGroupIds = serverGroupIds;
    }

    /// <summary>The distinct ids asked for, each of which must name a group of the tenant.</summary>
    private static async Task<List<Guid>> ExistingAsync<TGroup>(IQueryable<TGroup> groups, IReadOnlyList<Guid>? requested, string field, string what, CancellationToken ct)
        where TGroup : class, Storage.ITenantOwned
    {
        var ids = requested?.Distinct().ToList() ?? [];
        var known = await groups.Select(g => EF.Property<Guid>(g, "Id")).Where(id => ids.Contains(id)).ToListAsync(ct);
        var missing = ids.FindIndex(id => !known.Contains(id));
        return missing >= 0 ? throw PortalException.Invalid($"{field}[{missing}]", $"No {what} {ids[missing]} exists.") : ids;
    }

    private static List<string> Distinct(IReadOnlyList<string>? values, string field, Func<string?, string, string> check)
    {
        var result = new List<string>();
        for (var i = 0; i < (values?.Count ?? 0); i++)
        {
            var value = check(values![i], $"{field}[{i}]");
            if (!result.Contains(value, StringComparer.Ordinal))
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary>The name of an app segment in <paramref name="groupId"/>, if any.</summary>
    private static async Task<string?> SegmentInGroupAsync(PortalDbContext db, Guid groupId, CancellationToken ct) =>
        await db.Set<AppSegment>().Where(s => s.SegmentGroupId == groupId).OrderBy(s => s.Name).Select(s => s.Name).FirstOrDefaultAsync(ct) is { } name
            ? $"the app segment '{name}'"
            : null;

    /// <summary>The name of an app segment whose servers <paramref name="groupId"/> lists, if any.</summary>
    private static async Task<string?> SegmentBackedByAsync(PortalDbContext db, Guid groupId, CancellationToken ct)
    {
        var segments = await db.Set<AppSegment>().AsNoTracking().Select(s => new { s.Name, s.ServerGroupIds }).ToListAsync(ct);
        return segments.Where(s => s.ServerGroupIds.Contains(groupId)).Select(s => s.Name).Order(StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>What still uses a connector group: an app segment it serves, a connector in it, or a provisioning key that enrolls into it.</summary>
    private static async Task<string?> ConnectorGroupUserAsync(PortalDbContext db, Guid groupId, CancellationToken ct)
    {
        // Connector group ids are JSON in the segment row; segments are few, so the check runs here.
        var segments = await db.Set<AppSegment>().AsNoTracking().Select(s => new { s.Name, s.ConnectorGroupIds }).ToListAsync(ct);
        if (segments.Where(s => s.ConnectorGroupIds.Contains(groupId)).Select(s => s.Name).Order(StringComparer.Ordinal).FirstOrDefault() is { } segment)
        {
            return $"the app segment '{segment}'";
        }

        if (await db.Set<Connector>().Where(c => c.ConnectorGroupId == groupId && c.Status != DeviceStatuses.Revoked).OrderBy(c => c.Name).Select(c => c.Name).FirstOrDefaultAsync(ct) is { } connector)
        {
            return $"the connector '{connector}' (revoke it, or enroll it into another group, first)";
        }

        // A key left usable would enroll connectors into a group that no longer exists.
        return await db.Set<ProvisioningKey>().Where(k => k.ConnectorGroupId == groupId && !k.Revoked && k.UseCount < k.MaxUses).OrderBy(k => k.Name).Select(k => k.Name).FirstOrDefaultAsync(ct) is { } key
            ? $"the provisioning key '{key}' (revoke it first)"
            : null;
    }
}
