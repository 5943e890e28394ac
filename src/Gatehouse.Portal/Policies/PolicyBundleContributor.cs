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

        var rules = await db.Set<PolicyRule>().IgnoreQueryFilters().AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.Enabled)
            .OrderBy(r => r.Order)
            .ToListAsync(cancellationToken);
        var policy = await ToBundleAsync(db, tenantId, rules.Select(r => (r.Name, r.Action, r.Criteria, (IEnumerable<string>)r.Inspect)), cancellationToken);
        body["policy"] = policy;
    }

    /// <summary>Rules as the edge reads them, segment groups expanded; a rule whose segment groups hold no segment matches nothing and is left out.</summary>
    internal static async Task<JsonArray> ToBundleAsync(PortalDbContext db, Guid tenantId, IEnumerable<(string Name, string Action, Gatehouse.Wire.Policy.PolicyCriteria Criteria, IEnumerable<string> Inspect)> rules, CancellationToken cancellationToken)
    {
        var expansion = await AppSegments.SegmentGroupExpansion.LoadAsync(db, tenantId, cancellationToken);
        var policy = new JsonArray();
        foreach (var (name, action, criteria, inspect) in rules)
        {
            if (expansion.Expand(criteria) is not { } expanded)
            {
                continue;
            }

            policy.Add(new JsonObject
            {
                ["name"] = name,
                ["action"] = action,
                ["criteria"] = JsonSerializer.SerializeToNode(expanded, Json),
                ["inspect"] = new JsonArray([.. inspect.Select(i => JsonValue.Create(i))]),
            });
        }

        return policy;
    }
}
