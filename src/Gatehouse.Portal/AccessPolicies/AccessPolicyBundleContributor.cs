using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Portal.AppSegments;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.AccessPolicies;

/// <summary>
/// Gives edges <c>accessPolicy</c>: the enabled access rules in order (name, action, criteria), segment
/// groups published as their segments. A rule whose groups hold no segment is left out: it matches nothing.
/// </summary>
internal sealed class AccessPolicyBundleContributor : IBundleContributor
{
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        if (!BundleConsumers.IsEdge(consumer))
        {
            return;
        }

        var expansion = await SegmentGroupExpansion.LoadAsync(db, tenantId, cancellationToken);
        var rules = await db.Set<AccessRule>().IgnoreQueryFilters().AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.Enabled)
            .OrderBy(r => r.Order)
            .ToListAsync(cancellationToken);
        var policy = new JsonArray();
        foreach (var rule in rules)
        {
            if (expansion.Expand(rule.Criteria) is { } criteria)
            {
                policy.Add(new JsonObject
                {
                    ["name"] = rule.Name,
                    ["action"] = rule.Action,
                    ["criteria"] = JsonSerializer.SerializeToNode(criteria, PolicyBundleContributor.Json),
                });
            }
        }

        body["accessPolicy"] = policy;
    }
}
