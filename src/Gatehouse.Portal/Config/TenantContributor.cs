using System.Text.Json.Nodes;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Config;

/// <summary>
/// <c>tenant: {id, name}</c> in every bundle; and for edges, <c>ca</c>: the tenant CA (PEM) that
/// agent and connector certificates must chain to.
/// </summary>
internal sealed class TenantContributor : IBundleContributor
{
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId)
            .Select(t => new { t.Name, t.CaCertificatePem }).FirstAsync(cancellationToken);
        body["tenant"] = new JsonObject { ["id"] = tenantId.ToString(), ["name"] = tenant.Name };
        if (BundleConsumers.IsEdge(consumer))
        {
            body["ca"] = tenant.CaCertificatePem;
        }
    }
}
