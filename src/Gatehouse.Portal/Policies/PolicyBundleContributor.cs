using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Policies;

/// <summary>
/// Gives the edge the tenant's enabled rules in order (<c>policy</c>), with objects named as
/// stored; the edge resolves the names against the bundle's <c>categories</c>, <c>appSegments</c>
/// and <c>users</c>.
/// </summary>
public sealed class PolicyBundleContributor : IBundleContributor
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <inheritdoc />
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(body);
        if (consumer != "edge")
        {
            return;
        }

        var expansion = await AppSegments.SegmentGroupExpansion.LoadAsync(db, tenantId, cancellationToken);
        var rules = await db.Set<PolicyRule>().IgnoreQueryFilters().AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.Enabled)
            .OrderBy(r => r.Order)
            .ToListAsync(cancellationToken);
        var policy = new JsonArray();
        foreach (var rule in rules)
        {
            // A rule whose segment groups hold no segment matches nothing, so it is left out.
            if (expansion.Expand(rule.Criteria) is not { } criteria)
            {
                continue;
            }

            policy.Add(new JsonObject
            {
                ["name"] = rule.Name,
                ["action"] = rule.Action,
                ["criteria"] = JsonSerializer.SerializeToNode(criteria, Json),
                ["inspect"] = new JsonArray([.. rule.Inspect.Select(i => JsonValue.Create(i))]),
            });
        }

        body["policy"] = policy;
    }
}
