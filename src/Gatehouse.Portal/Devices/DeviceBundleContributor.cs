using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Devices;

/// <summary>
/// For edges: <c>devices: [{id, userId}]</c>, the active devices ordered by id, with the user each was
/// enrolled for (null when its enrollment token named none, or the user was deleted). An edge maps the device
/// certificate of a tunnel to its user with it.
/// </summary>
internal sealed class DeviceBundleContributor : IBundleContributor
{
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        if (!BundleConsumers.IsEdge(consumer))
        {
            return;
        }

        var devices = await db.Set<Device>().IgnoreQueryFilters().AsNoTracking()
            .Where(d => d.TenantId == tenantId && d.Status == DeviceStatuses.Active)
            .OrderBy(d => d.Id)
            .Select(d => new { d.Id, d.UserId })
            .ToListAsync(cancellationToken);
        var list = new JsonArray();
        foreach (var device in devices)
        {
            list.Add(new JsonObject { ["id"] = device.Id.ToString(), ["userId"] = device.UserId?.ToString() });
        }

        body["devices"] = list;
    }
}
