using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Storage;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Profiles;

/// <summary>
/// Gives the agent <c>forwardingProfiles</c> (by name) and <c>appProfiles</c> (by priority, then
/// name) with the password hashes, which the agent checks locally when a user logs out or
/// disables it.
/// </summary>
public sealed class ProfileBundleContributor : IBundleContributor
{
    /// <inheritdoc />
    public async Task ContributeAsync(PortalDbContext db, Guid tenantId, string consumer, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(body);
        if (consumer != "agent")
        {
            return;
        }

        var forwarding = await db.Set<ForwardingProfile>().IgnoreQueryFilters().AsNoTracking()
            .Where(p => p.TenantId == tenantId)
            .ToListAsync(cancellationToken);
        var apps = await db.Set<AppProfile>().IgnoreQueryFilters().AsNoTracking()
            .Where(p => p.TenantId == tenantId)
            .ToListAsync(cancellationToken);
        var groups = await db.Groups.IgnoreQueryFilters().AsNoTracking()
            .Where(g => g.TenantId == tenantId)
            .ToDictionaryAsync(g => g.Id, g => g.Name, cancellationToken);
        var forwardingNames = forwarding.ToDictionary(p => p.Id, p => p.Name);

        var forwardingProfiles = new JsonArray();
        foreach (var profile in forwarding.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            forwardingProfiles.Add(new JsonObject
            {
                ["id"] = profile.Id.ToString(),
                ["name"] = profile.Name,
                ["trusted"] = profile.Trusted,
                ["untrusted"] = profile.Untrusted,
                ["vpn"] = profile.Vpn,
            });
        }

        var appProfiles = new JsonArray();
        foreach (var profile in apps.OrderBy(p => p.Priority).ThenBy(p => p.Name, StringComparer.Ordinal))
        {
            // A group deleted since the profile was saved no longer selects anyone.
            var groupIds = profile.GroupIds.Where(groups.ContainsKey).Select(id => id.ToString()).Order(StringComparer.Ordinal).ToList();
            appProfiles.Add(new JsonObject
            {
                ["name"] = profile.Name,
                ["priority"] = profile.Priority,
                ["groupIds"] = new JsonArray([.. groupIds.Select(id => JsonValue.Create(id))]),
                ["groups"] = new JsonArray([.. profile.GroupIds.Where(groups.ContainsKey).Select(id => groups[id]).Order(StringComparer.Ordinal).Select(n => JsonValue.Create(n))]),
                ["failMode"] = profile.FailMode,
                ["trustedNetwork"] = JsonSerializer.SerializeToNode(profile.TrustedNetwork, PolicyBundleContributor.Json),
                ["forwardingProfile"] = profile.ForwardingProfileId is { } f && forwardingNames.TryGetValue(f, out var name) ? name : null,
                ["captivePortalPauseMinutes"] = profile.CaptivePortalPauseMinutes,
                ["logoutPasswordHash"] = profile.LogoutPasswordHash,
                ["disablePasswordHash"] = profile.DisablePasswordHash,
            });
        }

        body["forwardingProfiles"] = forwardingProfiles;
        body["appProfiles"] = appProfiles;
    }
}
