using System.Security.Cryptography;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Devices;
using Gatehouse.Portal.Edges;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Users;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Gatehouse.Wire.Policy;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Dr;

/// <summary>
/// Disaster recovery of the caller's tenant:
/// <code>
///   GET /api/v1/dr          the settings
///   PUT /api/v1/dr          replace them (record name, DR public key, DR edges, drill group, DR policy)
///   DELETE /api/v1/dr       remove them: agents leave DR and stop checking the record, no DR bundle is built
///   GET /api/v1/dr/bundle   the signed DR bundle, for a DR edge started with no portal (gatehouse dr export)
/// </code>
/// </summary>
internal static class DrEndpoints
{
    private static readonly TimeSpan BundleTimeout = TimeSpan.FromSeconds(10);

    public static RouteGroupBuilder MapDr(this RouteGroupBuilder api)
    {
        var dr = api.MapGroup("/dr").WithTags("dr");
        dr.MapGet("/", async (PortalDbContext db, Caller caller, CancellationToken ct) =>
        {
            var settings = await FindAsync(db, caller.TenantId, ct);

            // Ready only while a DR edge is still active, as the agents' bundles say.
            return ToDto(settings) with { Ready = settings.Ready && (await DrBundleContributor.DrEdgesAsync(db, caller.TenantId, settings, ct)).Count > 0 };
        });
        dr.MapPut("/", PutAsync).RequireAuthorization(AuthPolicies.Write);
        dr.MapDelete("/", DeleteAsync).RequireAuthorization(AuthPolicies.Write);
        dr.MapGet("/bundle", BundleAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<DrSettings> FindAsync(PortalDbContext db, Guid tenantId, CancellationToken ct) =>
        await db.Set<DrSettings>().FirstOrDefaultAsync(ct) ?? new DrSettings { TenantId = tenantId };

    private static async Task<DrSettingsDto> PutAsync(PutDrSettingsRequest request, Caller caller, PortalDbContext db, AuditLog audit, ConfigPublisher publisher, TimeProvider time, CancellationToken ct)
    {
        var settings = await db.Set<DrSettings>().FirstOrDefaultAsync(ct);
        var before = settings is null ? null : ToDto(settings);
        if (settings is null)
        {
            settings = new DrSettings { TenantId = caller.TenantId };
            db.Set<DrSettings>().Add(settings);
        }

        settings.RecordName = request.RecordName is null ? null : Validate.Domain(request.RecordName.TrimEnd('.'), "recordName", allowWildcard: false);
        settings.PublicKeyPem = request.PublicKeyPem is null ? null : PublicKey(request.PublicKeyPem);
        settings.EdgeIds = [.. (request.EdgeIds ?? []).Distinct()];
        foreach (var id in settings.EdgeIds)
        {
            if (!await db.Set<Edge>().AnyAsync(e => e.Id == id && e.Status == DeviceStatuses.Active, ct))
            {
                throw PortalException.Invalid("edgeIds", $"No active edge {id} in this tenant; enroll the DR edge first (gatehouse-edge enroll).");
            }
        }

        await RequireAnEdgeOutsideDrAsync(db, settings.EdgeIds, ct);
        if (request.DrillGroupId is { } group && !await db.Set<Group>().AnyAsync(g => g.Id == group, ct))
        {
            throw PortalException.Invalid("drillGroupId", $"No group {group} in this tenant.");
        }

        settings.DrillGroupId = request.DrillGroupId;
        var rules = PolicyValidation.NormaliseDocument(new PolicyDocument(request.Rules ?? []));
        if (rules.Any(r => r.Name == DrPolicy.OutsideRule))
        {
            throw PortalException.Invalid("rules", $"'{DrPolicy.OutsideRule}' is the name of the DR policy's default; name the rule otherwise.");
        }

        await PolicyValidation.CheckReferencesAsync(db, rules, i => $"rules[{i}].", ct);
        settings.Rules = rules;
        settings.DefaultAction = Validate.OneOf(request.DefaultAction ?? PolicyActions.Block, "defaultAction", [PolicyActions.Allow, PolicyActions.Block]);
        settings.CheckSeconds = request.CheckSeconds ?? 60;
        if (settings.CheckSeconds is < 10 or > 3600)
        {
            throw PortalException.Invalid("checkSeconds", "checkSeconds must be 10 to 3600.");
        }

        settings.UpdatedAt = time.GetUtcNow();
        audit.Record("dr.update", "dr", caller.TenantId, before, ToDto(settings));
        await db.SaveChangesAsync(ct);
        publisher.Signal(caller.TenantId);
        return ToDto(settings);
    }

    /// <summary>
    /// Agents leave DR edges out of their normal edge list, and edges that still follow the DR bundle (a former DR edge in
    /// standby), so DR edges that are all of a tenant's other active edges leave its devices with none: fail-open agents
    /// would send everything direct, past the policy, and fail-closed ones would lose the internet. Refused while the
    /// tenant has active devices; a new tenant may enroll its DR edge first.
    /// </summary>
    private static async Task RequireAnEdgeOutsideDrAsync(PortalDbContext db, List<Guid> drEdgeIds, CancellationToken ct)
    {
        if (drEdgeIds.Count == 0 || await db.Set<Edge>().AnyAsync(e => e.Status == DeviceStatuses.Active && !drEdgeIds.Contains(e.Id) && !e.FollowsDr, ct))
        {
            return;
        }

        var devices = await db.Set<Device>().CountAsync(d => d.Status == DeviceStatuses.Active, ct);
        if (devices > 0)
        {
            throw PortalException.Invalid("edgeIds", $"These DR edges are all of this tenant's active edges: its {devices} {(devices == 1 ? "device" : "devices")} would have no edge outside DR (agents use DR edges only in DR), so fail-open agents would go direct and fail-closed ones would lose the internet. Enroll an edge for DR of its own (gatehouse-edge enroll) and name that one.");
        }
    }

    /// <summary>
    /// Removes the settings. The agents' next bundle has no <c>dr</c> (a device in DR leaves it); the DR bundle is no
    /// longer built, so a DR edge's poll gets <see cref="RequireSetUpAsync"/>'s 404 and keeps its last bundle.
    /// </summary>
    private static async Task<IResult> DeleteAsync(Caller caller, PortalDbContext db, AuditLog audit, ConfigPublisher publisher, CancellationToken ct)
    {
        var settings = await db.Set<DrSettings>().FirstOrDefaultAsync(ct)
            ?? throw new PortalException(PortalErrorKind.NotFound, "Disaster recovery is not set up for this tenant: there are no DR settings to delete.");
        db.Set<DrSettings>().Remove(settings);
        audit.Record("dr.delete", "dr", caller.TenantId, ToDto(settings), null);
        await db.SaveChangesAsync(ct);
        publisher.Signal(caller.TenantId);
        return Results.NoContent();
    }

    /// <summary>
    /// A 404 naming the command to run when the tenant has not set up disaster recovery: no DR bundle is built
    /// for it (a DR edge's <c>/config/dr</c>, <c>gatehouse dr export</c>).
    /// </summary>
    internal static async Task RequireSetUpAsync(PortalDbContext db, Guid tenantId, CancellationToken ct)
    {
        if (!await DrSettings.ExistForAsync(db, tenantId, ct))
        {
            throw new PortalException(PortalErrorKind.NotFound, "Disaster recovery is not set up for this tenant, so there is no DR bundle: set it up with `gatehouse dr set` (PUT /api/v1/dr).");
        }
    }

    private static async Task<IResult> BundleAsync(Caller caller, PortalDbContext db, ConfigPublisher publisher, CancellationToken ct)
    {
        await RequireSetUpAsync(db, caller.TenantId, ct);
        var bundle = await publisher.CurrentAsync(caller.TenantId, BundleConsumers.Dr, BundleTimeout, ct)
            ?? throw new PortalException(PortalErrorKind.Unavailable, "The DR bundle is not published yet; try again.");
        return Results.File(bundle.Document, "application/json", $"gatehouse-dr-{caller.TenantId}-{bundle.Version}.json");
    }

    // The key as PEM again, so that what is stored is exactly one P-256 public key.
    private static string PublicKey(string pem)
    {
        if (pem.Contains("PRIVATE KEY", StringComparison.Ordinal))
        {
            // Kept, it would be in the database, the audit log and the backups: one copy is enough to forge a DR record.
            throw PortalException.Invalid("publicKeyPem", "publicKeyPem holds a private key, which is not kept; give the public key (FILE.pub from `gatehouse dr key create`), and make a new key pair, since this one has left its offline machine.");
        }

        try
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw PortalException.Invalid("publicKeyPem", $"The DR key must be P-256; this one is {key.KeySize} bits.");
            }

            return key.ExportSubjectPublicKeyInfoPem();
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            throw PortalException.Invalid("publicKeyPem", $"publicKeyPem is not a PEM public key: {e.Message} (make one with `gatehouse dr key create`).");
        }
    }

    private static DrSettingsDto ToDto(DrSettings s) =>
        new(s.RecordName, s.PublicKeyPem, s.EdgeIds, s.DrillGroupId, s.Rules, s.DefaultAction, s.CheckSeconds, s.Ready, s.UpdatedAt == default ? null : s.UpdatedAt);
}
