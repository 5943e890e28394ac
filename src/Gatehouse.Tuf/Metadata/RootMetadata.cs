using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;
using Gatehouse.Tuf.Keys;

namespace Gatehouse.Tuf.Metadata;

/// <summary>Root metadata: the keys and thresholds of the four top-level roles.</summary>
public sealed class RootMetadata : RoleMetadata
{
    /// <summary>Creates root metadata.</summary>
    /// <param name="version">The version.</param>
    /// <param name="expires">The expiry.</param>
    /// <param name="keys">Every key of a top-level role, by key ID.</param>
    /// <param name="roles">The four top-level roles.</param>
    /// <param name="consistentSnapshot">Whether files are published under versioned names.</param>
    public RootMetadata(long version, DateTimeOffset expires, IReadOnlyDictionary<string, TufKey> keys, IReadOnlyDictionary<string, RoleKeys> roles, bool consistentSnapshot)
        : base(version, expires)
    {
        Keys = keys;
        Roles = roles;
        ConsistentSnapshot = consistentSnapshot;
    }

    /// <summary>Every key of a top-level role, by key ID.</summary>
    public IReadOnlyDictionary<string, TufKey> Keys { get; }

    /// <summary>The four top-level roles.</summary>
    public IReadOnlyDictionary<string, RoleKeys> Roles { get; }

    /// <summary>Whether snapshot, targets and artifacts are published under versioned (or hash-prefixed) names.</summary>
    public bool ConsistentSnapshot { get; }

    /// <summary>Reads the signed part of root metadata.</summary>
    /// <param name="signed">The signed part.</param>
    /// <returns>The root.</returns>
    public static RootMetadata FromJson(JsonObject signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var (version, expires) = ReadCommon(signed, RoleNames.Root);
        var keys = KeyMap.FromJson(Fields.Object(signed, "keys", "root"), "root.keys");
        var rolesJson = Fields.Object(signed, "roles", "root");
        var roles = new Dictionary<string, RoleKeys>(StringComparer.Ordinal);
        foreach (var pair in rolesJson)
        {
            if (!RoleNames.IsTopLevel(pair.Key))
            {
                throw Fields.Malformed($"root.roles names \"{pair.Key}\", which is not a top-level role");
            }

            roles[pair.Key] = RoleKeys.FromJson(Fields.Object(pair.Value, $"root.roles.{pair.Key}"), $"root.roles.{pair.Key}");
        }

        if (roles.Count != 4)
        {
            throw Fields.Malformed("root.roles must name root, timestamp, snapshot and targets");
        }

        var consistent = Fields.OptionalBoolean(signed, "consistent_snapshot", "root") ?? false;
        return new RootMetadata(version, expires, keys, roles, consistent);
    }

    /// <summary>The keys of one top-level role, by key ID, for checking its signatures.</summary>
    /// <param name="role">A top-level role name.</param>
    /// <returns>The role's keys and threshold.</returns>
    public RoleKeys Role(string role) => Roles[role];

    /// <summary>Whether the key IDs of <paramref name="role"/> differ between this root and <paramref name="other"/>.</summary>
    /// <param name="other">Another root.</param>
    /// <param name="role">A top-level role name.</param>
    /// <returns>Whether the role's keys were rotated.</returns>
    public bool RotatedKeysOf(RootMetadata other, string role)
    {
        ArgumentNullException.ThrowIfNull(other);
        return !Roles[role].KeyIds.Order(StringComparer.Ordinal).SequenceEqual(other.Roles[role].KeyIds.Order(StringComparer.Ordinal));
    }

    /// <summary>The signed part, ready to sign.</summary>
    /// <returns>The JSON.</returns>
    public JsonObject ToJson()
    {
        var signed = NewSigned(RoleNames.Root);
        signed["consistent_snapshot"] = ConsistentSnapshot;
        signed["keys"] = KeyMap.ToJson(Keys);
        var roles = new JsonObject();
        foreach (var (name, role) in Roles)
        {
            var obj = new JsonObject();
            role.WriteTo(obj);
            roles[name] = obj;
        }

        signed["roles"] = roles;
        return signed;
    }
}
