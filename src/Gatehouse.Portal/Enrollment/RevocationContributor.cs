using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Connectors;
using Gatehouse.Portal.Devices;
using Gatehouse.Portal.Edges;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Enrollment;

/// <summary>
/// For edges: <c>revoked: {devices: [{id, serial}], edges: [...], connectors: [...]}</c>. An edge
/// refuses a certificate whose identity's subject id is listed, whatever its serial.
/// </summary>
internal sealed class RevocationContributor : IBundleContributor
{
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        if (!BundleConsumers.IsEdge(consumer))
        {
            return;
        }

        body["revoked"] = new JsonObject
        {
            ["devices"] = await RevokedAsync<Device>(db, tenantId, cancellationToken),
            ["edges"] = await RevokedAsync<Edge>(db, tenantId, cancellationToken),
            ["connectors"] = await RevokedAsync<Connector>(db, tenantId, cancellationToken),
        };
    }

    private static async Task<JsonArray> RevokedAsync<T>(PortalDbContext db, Guid tenantId, CancellationToken ct)
        where T : class, IEnrolledSubject
    {
        var rows = await db.Set<T>().IgnoreQueryFilters().AsNoTracking()
            .Where(s => s.TenantId == tenantId && s.Status == DeviceStatuses.Revoked)
            .OrderBy(s => s.Id)
            .Select(s => new { s.Id, s.CertificateSerial })
            .ToListAsync(ct);
        var list = new JsonArray();
        foreach (var row in rows)
        {
            list.Add(new JsonObject { ["id"] = row.Id.ToString(), ["serial"] = row.CertificateSerial });
        }

        return list;
    }
}
