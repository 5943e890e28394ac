using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Users;

/// <summary>
/// Gives the edge the tenant's <c>users</c> (id, email, disabled, group names), ordered by email,
/// so that it can evaluate the user and group criteria of policy rules.
/// </summary>
public sealed class UserBundleContributor : IBundleContributor
{
    /// <inheritdoc />
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(body);
        if (!Gatehouse.Wire.Config.BundleConsumers.IsEdge(consumer))
        {
            return;
        }

        var users = await db.Users.IgnoreQueryFilters().AsNoTracking()
            .Where(u => u.TenantId == tenantId)
            .Include(u => u.Memberships)
            .ToListAsync(cancellationToken);
        var groups = await db.Groups.IgnoreQueryFilters().AsNoTracking()
            .Where(g => g.TenantId == tenantId)
            .ToDictionaryAsync(g => g.Id, g => g.Name, cancellationToken);

        var result = new JsonArray();
        foreach (var user in users.OrderBy(u => u.Email, StringComparer.Ordinal))
        {
            var names = user.Memberships.Where(m => groups.ContainsKey(m.GroupId)).Select(m => groups[m.GroupId]).Order(StringComparer.Ordinal);
            result.Add(new JsonObject
            {
                ["id"] = user.Id.ToString(),
                ["email"] = user.Email,
                ["disabled"] = user.Disabled,
                ["groups"] = new JsonArray([.. names.Select(n => JsonValue.Create(n))]),
            });
        }

        body["users"] = result;
    }
}
