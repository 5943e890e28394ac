using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Categories;

/// <summary>Gives the edge every URL category as <c>categories</c>: name → domains, both in ordinal order.</summary>
public sealed class CategoryBundleContributor : IBundleContributor
{
    /// <inheritdoc />
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(body);
        if (consumer is not ("edge" or "dr"))
        {
            return;
        }

        var categories = await db.Set<UrlCategory>().IgnoreQueryFilters().AsNoTracking()
            .Where(c => c.TenantId == tenantId)
            .Select(c => new { c.Id, c.Name })
            .ToListAsync(cancellationToken);
        var domains = (await db.Set<CategoryDomain>().IgnoreQueryFilters().AsNoTracking()
                .Where(d => d.TenantId == tenantId)
                .Select(d => new { d.CategoryId, d.Domain })
                .ToListAsync(cancellationToken))
            .ToLookup(d => d.CategoryId, d => d.Domain);

        // Sorted here, not in SQL, so that both engines' collations give the same bytes.
        var result = new JsonObject();
        foreach (var category in categories.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            result[category.Name] = new JsonArray([.. domains[category.Id].Order(StringComparer.Ordinal).Select(d => JsonValue.Create(d))]);
        }

        body["categories"] = result;
    }
}
