using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Gatehouse.Policy.Sources;

namespace Gatehouse.Edge.Identities;

/// <summary>
/// Who is who on this edge, from one config bundle: the tenant, the CA and revocations that decide
/// tunnel certificates, the devices' users, and the forward proxy's credentials. Immutable; the edge
/// swaps the whole set when a newer bundle is in force.
/// </summary>
public sealed class EdgeIdentities
{
    private readonly Dictionary<string, string?> _deviceUsers;

    private EdgeIdentities(string tenantId, string tenantName, TenantTrust trust, ProxyCredentialTable credentials, Dictionary<string, string?> deviceUsers, Dictionary<string, string> users)
    {
        Users = users;
        TenantId = tenantId;
        TenantName = tenantName;
        Trust = trust;
        Credentials = credentials;
        _deviceUsers = deviceUsers;
    }

    /// <summary>Before any bundle: nobody is trusted, no credential works.</summary>
    public static EdgeIdentities None { get; } = new(string.Empty, string.Empty, TenantTrust.None, ProxyCredentialTable.Empty, [], []);

    /// <summary>The tenant's users: id → email.</summary>
    public IReadOnlyDictionary<string, string> Users { get; }

    /// <summary>The tenant's id.</summary>
    public string TenantId { get; }

    /// <summary>The tenant's name.</summary>
    public string TenantName { get; }

    /// <summary>Decides tunnel client certificates.</summary>
    public TenantTrust Trust { get; }

    /// <summary>Decides <c>Proxy-Authorization</c>.</summary>
    public ProxyCredentialTable Credentials { get; }

    /// <summary>The user a device belongs to.</summary>
    /// <param name="deviceId">The device id from its certificate.</param>
    /// <param name="userId">The user's id, or null when the device is known but has no user.</param>
    /// <returns>False when the bundle lists no such (active) device.</returns>
    public bool TryGetDeviceUser(string deviceId, out string? userId) => _deviceUsers.TryGetValue(deviceId, out userId);

    /// <summary>
    /// Reads <c>tenant</c>, <c>ca</c>, <c>revoked</c>, <c>devices</c> and <c>proxyCredentials</c> of an edge bundle body.
    /// A missing key reads as empty.
    /// </summary>
    /// <exception cref="PolicyFormatException">A key holds something of the wrong shape; the message names its path.</exception>
    public static EdgeIdentities FromBundleBody(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var tenant = body["tenant"] as JsonObject;
        var tenantId = BundleJson.Text(tenant?["id"], "tenant.id") ?? string.Empty;
        var tenantName = BundleJson.Text(tenant?["name"], "tenant.name") ?? string.Empty;
        return new EdgeIdentities(tenantId, tenantName, ReadTrust(tenantId, body), ReadCredentials(body["proxyCredentials"]), ReadDevices(body["devices"]), ReadUsers(body["users"]));
    }

    private static TenantTrust ReadTrust(string tenantId, JsonObject body)
    {
        X509Certificate2? ca = null;
        if (BundleJson.Text(body["ca"], "ca") is { } pem)
        {
            try
            {
                ca = X509Certificate2.CreateFromPem(pem);
            }
            catch (CryptographicException e)
            {
                throw new PolicyFormatException("ca", $"is not a PEM certificate: {e.Message}", e);
            }
        }

        var revoked = new List<string>();
        if (body["revoked"] is JsonObject lists)
        {
            foreach (var kind in (string[])["devices", "edges", "connectors"])
            {
                foreach (var (item, path) in BundleJson.Items(lists[kind], $"revoked.{kind}"))
                {
                    revoked.Add(BundleJson.Text(item["id"], path + ".id") ?? throw new PolicyFormatException(path + ".id", "is missing."));
                }
            }
        }

        return new TenantTrust(tenantId, ca, revoked);
    }

    private static ProxyCredentialTable ReadCredentials(JsonNode? node)
    {
        var table = new Dictionary<string, ProxyUser>(StringComparer.OrdinalIgnoreCase);
        foreach (var (item, path) in BundleJson.Items(node, "proxyCredentials"))
        {
            var hash = BundleJson.Text(item["sha256"], path + ".sha256");
            if (hash is not { Length: 64 } || !hash.All(Uri.IsHexDigit))
            {
                throw new PolicyFormatException(path + ".sha256", "must be 64 hex digits.");
            }

            table[hash] = new ProxyUser(
                BundleJson.Text(item["userId"], path + ".userId") ?? throw new PolicyFormatException(path + ".userId", "is missing."),
                BundleJson.Text(item["username"], path + ".username") ?? throw new PolicyFormatException(path + ".username", "is missing."));
        }

        return new ProxyCredentialTable(table);
    }

    private static Dictionary<string, string?> ReadDevices(JsonNode? node)
    {
        var devices = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (item, path) in BundleJson.Items(node, "devices"))
        {
            devices[BundleJson.Text(item["id"], path + ".id") ?? throw new PolicyFormatException(path + ".id", "is missing.")] = BundleJson.Text(item["userId"], path + ".userId");
        }

        return devices;
    }

    private static Dictionary<string, string> ReadUsers(JsonNode? node)
    {
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (item, path) in BundleJson.Items(node, "users"))
        {
            if (BundleJson.Text(item["id"], path + ".id") is { } id && BundleJson.Text(item["email"], path + ".email") is { } email)
            {
                users[id] = email;
            }
        }

        return users;
    }
}
