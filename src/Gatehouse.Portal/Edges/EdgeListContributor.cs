using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Edges;

/// <summary>
/// <c>edges: [{id, name, address}]</c>, the active edges, for agents and connectors to dial. DR
/// edges are left out for agents (they use them only in DR, from the bundle's <c>dr</c>) and kept
/// for connectors, which link to them always so that private apps work at once in DR.
/// </summary>
internal sealed class EdgeListContributor : IBundleContributor
{
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        if (consumer is not (BundleConsumers.Agent or BundleConsumers.Connector))
        {
            return;
        }

        var drEdges = consumer == BundleConsumers.Agent
            ? await db.Set<Dr.DrSettings>().IgnoreQueryFilters().AsNoTracking().Where(s => s.TenantId == tenantId).Select(s => s.EdgeIds).FirstOrDefaultAsync(cancellationToken) ?? []
            : [];
        var edges = await db.Set<Edge>().IgnoreQueryFilters().AsNoTracking()
            .Where(e => e.TenantId == tenantId && e.Status == DeviceStatuses.Active && !drEdges.Contains(e.Id) && !(consumer == BundleConsumers.Agent && e.FollowsDr))
            .OrderBy(e => e.Id)
            .Select(e => new { e.Id, e.Name, e.Address })
            .ToListAsync(cancellationToken);
        var list = new JsonArray();
        foreach (var edge in edges)
        {
            list.Add(new JsonObject { ["id"] = edge.Id.ToString(), ["name"] = edge.Name, ["address"] = edge.Address });
        }

        body["edges"] = list;
    }
}
