using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Users;

/// <summary>
/// For edges: <c>proxyCredentials: [{userId, username, sha256}]</c>, the forward-proxy credentials of users
/// that are not disabled, ordered by user name and then by credential id. The user name is the user's email
/// as it is now, so a changed email or a disabled user takes effect with the next bundle.
/// </summary>
internal sealed class ProxyCredentialContributor : IBundleContributor
{
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        if (!BundleConsumers.IsEdge(consumer))
        {
            return;
        }

        var rows = await (
                from credential in db.Set<ProxyCredential>().IgnoreQueryFilters()
                join user in db.Users.IgnoreQueryFilters() on credential.UserId equals user.Id
                where credential.TenantId == tenantId && user.TenantId == tenantId && !user.Disabled
                select new { credential.Id, credential.UserId, user.Email, credential.PasswordSha256 })
            .AsNoTracking()
            .ToListAsync(cancellationToken);

        // Ordered here, not in SQL: PostgreSQL's collation would order emails differently from SQLite's.
        var list = new JsonArray();
        foreach (var row in rows.OrderBy(r => r.Email, StringComparer.Ordinal).ThenBy(r => r.Id.ToString(), StringComparer.Ordinal))
        {
            list.Add(new JsonObject
            {
                ["userId"] = row.UserId.ToString(),
                ["username"] = row.Email,
                ["sha256"] = row.PasswordSha256,
            });
        }

        body["proxyCredentials"] = list;
    }
}
