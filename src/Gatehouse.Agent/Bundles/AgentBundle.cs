using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Api;

namespace Gatehouse.Agent.Bundles;

/// <summary>An edge agents may dial, from the bundle's <c>edges</c>.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Address">Its tunnel address, HOST:PORT.</param>
internal sealed record BundleEdge(string Name, string Address);

/// <summary>
/// What the data plane takes from a verified agent bundle: the edges to dial and the app profile that
/// applies to this device. Unknown members are ignored, so an older agent follows a newer portal, but for
/// trusted-network criteria, which are refused (<see cref="TrustedNetworkCriteria"/>).
/// </summary>
/// <param name="Version">The bundle's version.</param>
/// <param name="TenantName">The tenant's name.</param>
/// <param name="Edges">The active edges, in the portal's order.</param>
/// <param name="FailMode">The app profile's fail mode (<see cref="FailModes"/>).</param>
/// <param name="AppProfile">The app profile's name, when one applies.</param>
/// <param name="LogoutPasswordHash">The app profile's logout password hash, when it sets one.</param>
/// <param name="DisablePasswordHash">The app profile's disable password hash, when it sets one.</param>
/// <param name="TrustedNetwork">How the app profile tells a trusted network, when it does.</param>
/// <param name="Forwarding">What to do with traffic on each kind of network.</param>
/// <param name="CaptivePortalPause">How long to stand aside for a captive portal (zero: never).</param>
/// <param name="PrivateAppDomains">The domains of the tenant's private app segments (exact, or <c>*.domain</c>).</param>
/// <param name="Dr">The tenant's disaster-recovery settings, when it has them.</param>
internal sealed record AgentBundle(
    long Version,
    string? TenantName,
    IReadOnlyList<BundleEdge> Edges,
    string FailMode,
    string? AppProfile,
    string? LogoutPasswordHash,
    string? DisablePasswordHash,
    TrustedNetworkCriteria? TrustedNetwork,
    NetworkForwarding Forwarding,
    TimeSpan CaptivePortalPause,
    IReadOnlyList<string> PrivateAppDomains,
    BundleDr? Dr = null)
{
    /// <summary>
    /// With no app profile for the device's user, the agent fails open: it must not cut a machine off the
    /// network because an admin has not written a profile yet.
    /// </summary>
    public const string DefaultFailMode = FailModes.Open;

    /// <summary>Reads the parts the data plane needs, with the app profile meant for a user in <paramref name="userGroups"/>.</summary>
    /// <param name="bundle">The verified bundle.</param>
    /// <param name="userGroups">The groups of the device's user (<c>/config/agent/self</c>); empty when unknown.</param>
    /// <exception cref="FormatException">An edge or app profile is not shaped as the portal writes it.</exception>
    public static AgentBundle From(VerifiedBundle bundle, IReadOnlyCollection<Guid>? userGroups = null)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        try
        {
            return Read(bundle, userGroups);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or OverflowException)
        {
            // A value of another JSON type than the portal writes (a number for a name, a string for an object): JsonNode
            // throws these, and the data plane keeps its previous bundle only for a FormatException.
            throw new FormatException($"The bundle is not shaped as the portal writes it: {e.Message}", e);
        }
    }

    private static AgentBundle Read(VerifiedBundle bundle, IReadOnlyCollection<Guid>? userGroups)
    {
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

        // Profiles come ordered by priority: the first that is for everyone or for one of the user's groups applies.
        string failMode = DefaultFailMode;
        string? profileName = null;
        string? logoutHash = null;
        string? disableHash = null;
        TrustedNetworkCriteria? trusted = null;
        string? forwardingName = null;
        var captivePause = TimeSpan.FromMinutes(10);
        foreach (var item in body["appProfiles"] as JsonArray ?? [])
        {
            if (item?["groupIds"] is JsonArray { Count: > 0 } groups && !groups.Any(g => Guid.TryParse(g?.GetValue<string>(), out var id) && userGroups?.Contains(id) == true))
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
            forwardingName = item?["forwardingProfile"]?.GetValue<string>();
            captivePause = item?["captivePortalPauseMinutes"] switch
            {
                null => captivePause,
                // Canonical JSON keeps integers as long (CanonicalJson.ParseInteger), as BundleVerifier reads the version.
                JsonValue minutes when minutes.TryGetValue<long>(out var value) && value is >= 0 and <= 60 => TimeSpan.FromMinutes(value),
                var other => throw new FormatException($"The app profile {profileName} has captivePortalPauseMinutes {other.ToJsonString()}, not a whole number from 0 to 60."),
            };
            try
            {
                trusted = item?["trustedNetwork"] is JsonObject criteria ? criteria.Deserialize(AgentBundleJson.Default.TrustedNetworkCriteria) : null;
            }
            catch (JsonException e)
            {
                throw new FormatException($"The app profile {profileName} has trusted-network criteria that cannot be read: {e.Message}", e);
            }

            break;
        }

        var forwarding = NetworkForwarding.Default;
        foreach (var item in body["forwardingProfiles"] as JsonArray ?? [])
        {
            if (forwardingName is not null && item?["name"]?.GetValue<string>() == forwardingName)
            {
                forwarding = new NetworkForwarding(Action(item, "trusted"), Action(item, "untrusted"), Action(item, "vpn"));
            }
        }

        var privateDomains = new List<string>();
        foreach (var segment in body["appSegments"] as JsonArray ?? [])
        {
            foreach (var domain in segment?["domains"] as JsonArray ?? [])
            {
                privateDomains.Add(domain?.GetValue<string>() ?? throw new FormatException($"The app segment {segment?["name"]} has an empty domain."));
            }
        }

        return new AgentBundle(bundle.Header.Version, body["tenant"]?["name"]?.GetValue<string>(), edges, failMode, profileName, logoutHash, disableHash, trusted, forwarding, captivePause, privateDomains, BundleDr.From(body["dr"]));
    }

    private static string Action(JsonNode item, string network)
    {
        var action = item[network]?.GetValue<string>();
        return action is not null && ForwardingActions.All.Contains(action)
            ? action
            : throw new FormatException($"The forwarding profile {item["name"]} has no valid action for {network} networks.");
    }
}

/// <summary>The tenant's disaster-recovery settings, from the bundle's <c>dr</c>.</summary>
/// <param name="RecordName">The DNS name of the signed trigger record.</param>
/// <param name="PublicKeySpki">The DR key that signs it.</param>
/// <param name="Edges">The DR edges.</param>
/// <param name="DrillGroupId">The group a <c>test</c> record moves.</param>
/// <param name="CheckInterval">How often the record is looked up.</param>
internal sealed record BundleDr(string RecordName, byte[] PublicKeySpki, IReadOnlyList<BundleEdge> Edges, Guid? DrillGroupId, TimeSpan CheckInterval)
{
    /// <summary>Reads <c>dr</c>; null when the bundle has none.</summary>
    /// <exception cref="FormatException">It is not shaped as the portal writes it.</exception>
    public static BundleDr? From(JsonNode? dr)
    {
        if (dr is null)
        {
            return null;
        }

        try
        {
            var edges = new List<BundleEdge>();
            foreach (var edge in dr["edges"] as JsonArray ?? [])
            {
                var name = edge?["name"]?.GetValue<string>();
                var address = edge?["address"]?.GetValue<string>();
                edges.Add(!string.IsNullOrWhiteSpace(name) && !string.IsNullOrWhiteSpace(address) ? new BundleEdge(name, address) : throw new FormatException("a DR edge has no name or address"));
            }

            var seconds = dr["checkSeconds"]?.GetValue<long>() ?? 60;
            var record = dr["recordName"]?.GetValue<string>();
            var key = dr["publicKey"]?.GetValue<string>();
            if (string.IsNullOrEmpty(record) || string.IsNullOrEmpty(key) || edges.Count == 0 || seconds is < 1 or > 86_400)
            {
                throw new FormatException("its record name, public key, edges or check interval is missing or out of range");
            }

            return new BundleDr(
                record,
                Convert.FromBase64String(key),
                edges,
                dr["drillGroupId"]?.GetValue<string>() is { } drill ? Guid.Parse(drill) : null,
                TimeSpan.FromSeconds(seconds));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new FormatException($"The bundle's DR settings cannot be read: {e.Message}", e);
        }
    }
}

/// <summary>What the forwarding profile does on each kind of network (<see cref="ForwardingActions"/>).</summary>
/// <param name="Trusted">On a trusted network.</param>
/// <param name="Untrusted">On any other network.</param>
/// <param name="Vpn">While a VPN is up.</param>
internal sealed record NetworkForwarding(string Trusted, string Untrusted, string Vpn)
{
    /// <summary>Without a forwarding profile, traffic goes to the edges on every network.</summary>
    public static readonly NetworkForwarding Default = new(ForwardingActions.Tunnel, ForwardingActions.Tunnel, ForwardingActions.Tunnel);

    /// <summary>The action for <paramref name="network"/>.</summary>
    public string For(string network) => network switch
    {
        Wire.Policy.NetworkKinds.Trusted => Trusted,
        Wire.Policy.NetworkKinds.Vpn => Vpn,
        _ => Untrusted,
    };
}

/// <summary>The parts of the bundle read into Wire types, without reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(TrustedNetworkCriteria))]
[JsonSerializable(typeof(Wire.Config.DeviceSelf))]
internal sealed partial class AgentBundleJson : JsonSerializerContext;

