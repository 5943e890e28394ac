using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Edges;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Gatehouse.Wire.Policy;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Dr;

/// <summary>
/// The tenant's DR settings in its bundles:
/// <code>
///   agent  dr: {recordName, publicKey (SPKI, base64), edges [{name, address}], drillGroupId, checkSeconds}   (when ready)
///   dr     policy: the DR rules, then dr-outside with the default action, for every flow no DR rule covers
/// </code>
/// The rest of the DR bundle is the edge's (CA, revocations, users, devices, app segments,
/// connectors, access policy), so a DR edge decides alone with no portal behind it.
/// </summary>
internal sealed class DrBundleContributor : IBundleContributor
{
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        if (consumer is not (BundleConsumers.Agent or BundleConsumers.Dr))
        {
            return;
        }

        var settings = await db.Set<DrSettings>().IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(s => s.TenantId == tenantId, cancellationToken)
            ?? new DrSettings { TenantId = tenantId };
        if (consumer == BundleConsumers.Dr)
        {
            var rules = settings.Rules.Where(r => r.Enabled).Select(r => (r.Name, r.Action, r.Criteria, r.Inspect ?? (IEnumerable<string>)[]))
                .Append((DrPolicy.OutsideRule, settings.DefaultAction, new PolicyCriteria(), []));
            body["policy"] = await PolicyBundleContributor.ToBundleAsync(db, tenantId, rules, cancellationToken);
            return;
        }

        if (!settings.Ready)
        {
            return;
        }

        // Settings whose DR edges were all revoked since are not ready: agents refuse DR settings without an edge, and
        // with them the whole bundle, so no other change would reach them.
        var edges = await DrEdgesAsync(db, tenantId, settings, cancellationToken);
        if (edges.Count == 0)
        {
            return;
        }

        using var key = ECDsa.Create();
        key.ImportFromPem(settings.PublicKeyPem);
        body["dr"] = new JsonObject
        {
            ["recordName"] = settings.RecordName,
            ["publicKey"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()),
            ["edges"] = new JsonArray([.. edges.Select(e => new JsonObject { ["id"] = e.Id.ToString(), ["name"] = e.Name, ["address"] = e.Address })]),
            ["drillGroupId"] = settings.DrillGroupId?.ToString(),
            ["checkSeconds"] = settings.CheckSeconds,
        };
    }

    /// <summary>The active edges the settings name as DR edges, in id order.</summary>
    public static async Task<List<Edge>> DrEdgesAsync(PortalDbContext db, Guid tenantId, DrSettings settings, CancellationToken ct) =>
        await db.Set<Edge>().IgnoreQueryFilters().AsNoTracking()
            .Where(e => e.TenantId == tenantId && e.Status == DeviceStatuses.Active && settings.EdgeIds.Contains(e.Id))
            .OrderBy(e => e.Id)
            .ToListAsync(ct);
}
