using System.Text.Json.Nodes;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Api;

namespace Gatehouse.Agent.Bundles;

/// <summary>An edge agents may dial, from the bundle's <c>edges</c>.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Address">Its tunnel address, HOST:PORT.</param>
internal sealed record BundleEdge(string Name, string Address);

/// <summary>
/// What the data plane takes from a verified agent bundle: the edges to dial and the app profile that
/// applies to this device. Unknown members are ignored, so an older agent follows a newer portal.
/// </summary>
/// <param name="Version">The bundle's version.</param>
/// <param name="TenantName">The tenant's name.</param>
/// <param name="Edges">The active edges, in the portal's order.</param>
/// <param name="FailMode">The app profile's fail mode (<see cref="FailModes"/>).</param>
/// <param name="AppProfile">The app profile's name, when one applies.</param>
/// <param name="LogoutPasswordHash">The app profile's logout password hash, when it sets one.</param>
/// <param name="DisablePasswordHash">The app profile's disable password hash, when it sets one.</param>
internal sealed record AgentBundle(long Version, string? TenantName, IReadOnlyList<BundleEdge> Edges, string FailMode, string? AppProfile, string? LogoutPasswordHash, string? DisablePasswordHash)
{
    /// <summary>
    /// With no app profile for everyone, the agent fails open: it must not cut a machine off the
    /// network because an admin has not written a profile yet.
    /// </summary>
    public const string DefaultFailMode = FailModes.Open;

    /// <summary>Reads the parts the data plane needs.</summary>
    /// <exception cref="FormatException">An edge or app profile is not shaped as the portal writes it.</exception>
    public static AgentBundle From(VerifiedBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var body = bundle.Body;
        var edges = new List<BundleEdge>();
        foreach (var item in body["edges"] as JsonArray ?? [])
        {
            var name = item?["name"]?.GetValue<string>();
            var address = item?["address"]?.GetValue<string>();
            if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(address))
            {
                throw new FormatException("An edge in the bundle has no name or address.");
            }

            edges.Add(new BundleEdge(name, address));
        }

        // Profiles come ordered by priority. Choosing by the user's groups needs the user's groups,
        // which the tenant-wide agent bundle does not carry: the first profile for everyone applies.
        string failMode = DefaultFailMode;
        string? profileName = null;
        string? logoutHash = null;
        string? disableHash = null;
        foreach (var item in body["appProfiles"] as JsonArray ?? [])
        {
            if (item?["groupIds"] is JsonArray { Count: > 0 })
            {
                continue;
            }

            var mode = item?["failMode"]?.GetValue<string>();
            if (mode is null || !FailModes.All.Contains(mode))
            {
                throw new FormatException($"The app profile {item?["name"]} has no valid failMode.");
            }

            failMode = mode;
            profileName = item?["name"]?.GetValue<string>();
            logoutHash = item?["logoutPasswordHash"]?.GetValue<string>();
            disableHash = item?["disablePasswordHash"]?.GetValue<string>();
            break;
        }

        return new AgentBundle(bundle.Header.Version, body["tenant"]?["name"]?.GetValue<string>(), edges, failMode, profileName, logoutHash, disableHash);
    }
}
