using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Connectors;

/// <summary>
/// <c>connectors: [{id, name, connectorGroupId}]</c>, the active connectors: for edges to know which group a
/// connector that links in serves, and for a connector to find its own group.
/// </summary>
internal sealed class ConnectorListContributor : IBundleContributor
{
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        if (!BundleConsumers.IsEdge(consumer) && consumer != BundleConsumers.Connector)
        {
            return;
        }

        var connectors = await db.Set<Connector>().IgnoreQueryFilters().AsNoTracking()
            .Where(c => c.TenantId == tenantId && c.Status == DeviceStatuses.Active)
            .OrderBy(c => c.Id)
            .Select(c => new { c.Id, c.Name, c.ConnectorGroupId })
            .ToListAsync(cancellationToken);
        body["connectors"] = new JsonArray([.. connectors.Select(c => (JsonNode)new JsonObject
        {
            ["id"] = c.Id.ToString(),
            ["name"] = c.Name,
            ["connectorGroupId"] = c.ConnectorGroupId.ToString(),
        })]);
    }
}
