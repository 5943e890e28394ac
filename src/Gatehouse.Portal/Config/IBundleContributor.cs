using System.Text.Json.Nodes;
using Gatehouse.Portal.Storage;

namespace Gatehouse.Portal.Config;

/// <summary>
/// Adds one concept's share to a tenant's config bundle body (policy, app segments, edges,
/// revoked certificates…). The publisher calls every registered contributor for each consumer
/// (<c>agent</c>, <c>edge</c>, <c>connector</c>) and signs the result; a contributor writes only
/// its own top-level properties and must be deterministic (same data, same JSON).
/// </summary>
public interface IBundleContributor
{
    /// <summary>Writes this concept's part of <paramref name="consumer"/>'s bundle for <paramref name="tenantId"/>.</summary>
    /// <param name="db">A context with no tenant scope: filter by <paramref name="tenantId"/> with <c>IgnoreQueryFilters()</c>.</param>
    /// <param name="tenantId">The tenant whose bundle is built.</param>
    /// <param name="consumer">One of <c>Gatehouse.Wire.Config.BundleConsumers</c>.</param>
    /// <param name="body">The body to add properties to.</param>
    /// <param name="cancellationToken">Cancels the build.</param>
    Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken);
}
