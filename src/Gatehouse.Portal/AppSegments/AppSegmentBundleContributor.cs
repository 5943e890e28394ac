using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.AppSegments;

/// <summary>
/// Gives every consumer the enabled app segments as <c>appSegments</c>, ordered by name: the edge
/// with segment group and connector groups (to match rules and broker flows), the agent with
/// what it needs to hand out synthetic addresses, the connector with the groups that serve each and
/// the server groups whose servers it checks.
/// </summary>
public sealed class AppSegmentBundleContributor : IBundleContributor
{
    /// <inheritdoc />
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(body);
        if (consumer is not ("edge" or "dr" or "agent" or "connector"))
        {
            return;
        }

        var segments = await db.Set<AppSegment>().IgnoreQueryFilters().AsNoTracking()
            .Where(s => s.TenantId == tenantId && s.Enabled)
            .ToListAsync(cancellationToken);
        var groups = await db.Set<SegmentGroup>().IgnoreQueryFilters().AsNoTracking()
            .Where(g => g.TenantId == tenantId)
            .ToDictionaryAsync(g => g.Id, g => g.Name, cancellationToken);
        var serverGroups = consumer == "connector"
            ? await db.Set<ServerGroup>().IgnoreQueryFilters().AsNoTracking().Where(g => g.TenantId == tenantId).ToDictionaryAsync(g => g.Id, cancellationToken)
            : [];

        var result = new JsonArray();
        foreach (var segment in segments.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var item = new JsonObject
            {
                ["name"] = segment.Name,
                ["domains"] = Strings(segment.Domains),
                ["cidrs"] = Strings(segment.Cidrs),
                ["ports"] = Strings(segment.Ports),
            };
            if (consumer is "edge" or "dr")
            {
                item["segmentGroup"] = segment.SegmentGroupId is { } g && groups.TryGetValue(g, out var name) ? name : null;
            }

            if (consumer is "edge" or "dr" or "connector")
            {
                item["connectorGroupIds"] = Strings(segment.ConnectorGroupIds.Select(id => id.ToString()).Order(StringComparer.Ordinal));
            }

            if (consumer == "connector")
            {
                // What the connectors health-check for the segment: its server groups' servers, by the groups' checks.
                item["serverGroups"] = new JsonArray([.. segment.ServerGroupIds
                    .Select(id => serverGroups.GetValueOrDefault(id))
                    .OfType<ServerGroup>()
                    .OrderBy(g => g.Name, StringComparer.Ordinal)
                    .Select(g => (JsonNode)new JsonObject
                    {
                        ["name"] = g.Name,
                        ["servers"] = Strings(g.Servers),
                        ["healthCheck"] = g.HealthCheck,
                        ["healthPath"] = g.HealthPath,
                    })]);
            }

            result.Add(item);
        }

        body["appSegments"] = result;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => JsonValue.Create(v))]);
}
