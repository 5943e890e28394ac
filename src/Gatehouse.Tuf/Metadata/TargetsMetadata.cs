using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;
using Gatehouse.Tuf.Keys;

namespace Gatehouse.Tuf.Metadata;

/// <summary>An artifact as targets metadata lists it.</summary>
/// <param name="Path">The target path (<c>agent/1.4.0/gatehouse-agent.tar.gz</c>).</param>
/// <param name="Length">The length in bytes.</param>
/// <param name="Hashes">Hashes by algorithm, hex-encoded; at least one.</param>
/// <param name="Custom">Application data (release notes, content schema), if any.</param>
public sealed record TargetFile(string Path, long Length, IReadOnlyDictionary<string, string> Hashes, JsonObject? Custom = null)
{
    /// <summary>Describes <paramref name="bytes"/> as the target <paramref name="path"/>, with SHA-256 and SHA-512.</summary>
    /// <param name="path">The target path.</param>
    /// <param name="bytes">The artifact.</param>
    /// <param name="custom">Application data, if any.</param>
    /// <returns>The description.</returns>
    public static TargetFile Describe(string path, ReadOnlySpan<byte> bytes, JsonObject? custom = null) => new(
        path,
        bytes.Length,
        new Dictionary<string, string>
        {
            ["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
            ["sha512"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA512.HashData(bytes)),
        },
        custom);

    /// <summary>Checks an artifact's length and hashes.</summary>
    /// <param name="bytes">The artifact.</param>
    /// <exception cref="TufException">They differ (<see cref="TufFailure.Mismatch"/>).</exception>
    public void Verify(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
        {
            throw new TufException(TufFailure.Mismatch, $"target {Path} is {bytes.Length} bytes long, not the {Length} signed metadata says");
        }

        FileHashes.Verify($"target {Path}", Hashes, bytes);
    }

    internal static TargetFile FromJson(string path, JsonNode? node, string where)
    {
        var obj = Fields.Object(node, where);
        var length = Fields.Integer(obj, "length", where);
        if (length < 0)
        {
            throw Fields.Malformed($"{where}.length must not be negative");
        }

        var hashes = FileHashes.FromJson(Fields.Object(obj, "hashes", where), $"{where}.hashes");
        return new TargetFile(path, length, hashes, Fields.OptionalObject(obj, "custom", where));
    }

    internal JsonObject ToJson()
    {
        var obj = new JsonObject { ["length"] = Length, ["hashes"] = FileHashes.ToJson(Hashes) };
        if (Custom is not null)
        {
            obj["custom"] = Custom.DeepClone();
        }

        return obj;
    }
}

/// <summary>Targets metadata (top-level or delegated): artifacts, and delegations to other roles.</summary>
public sealed class TargetsMetadata : RoleMetadata
{
    /// <summary>Creates targets metadata.</summary>
    /// <param name="version">The version.</param>
    /// <param name="expires">The expiry.</param>
    /// <param name="targets">The artifacts by target path.</param>
    /// <param name="delegations">The delegations, if any.</param>
    public TargetsMetadata(long version, DateTimeOffset expires, IReadOnlyDictionary<string, TargetFile> targets, Delegations? delegations = null)
        : base(version, expires)
    {
        Targets = targets;
        Delegations = delegations;
    }

    /// <summary>The artifacts by target path.</summary>
    public IReadOnlyDictionary<string, TargetFile> Targets { get; }

    /// <summary>The delegations, if any.</summary>
    public Delegations? Delegations { get; }

    /// <summary>Reads the signed part of targets metadata.</summary>
    /// <param name="signed">The signed part.</param>
    /// <returns>The targets.</returns>
    public static TargetsMetadata FromJson(JsonObject signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var (version, expires) = ReadCommon(signed, RoleNames.Targets);
        var targets = new Dictionary<string, TargetFile>(StringComparer.Ordinal);
        foreach (var pair in Fields.Object(signed, "targets", "targets"))
        {
            targets[pair.Key] = TargetFile.FromJson(pair.Key, pair.Value, $"targets.targets[{pair.Key}]");
        }

        var delegations = Fields.OptionalObject(signed, "delegations", "targets") is { } d ? Delegations.FromJson(d) : null;
        return new TargetsMetadata(version, expires, targets, delegations);
    }

    /// <summary>The signed part, ready to sign.</summary>
    /// <returns>The JSON.</returns>
    public JsonObject ToJson()
    {
        var signed = NewSigned(RoleNames.Targets);
        var targets = new JsonObject();
        foreach (var (path, file) in Targets)
        {
            targets[path] = file.ToJson();
        }

        signed["targets"] = targets;
        if (Delegations is not null)
        {
            signed["delegations"] = Delegations.ToJson();
        }

        return signed;
    }
}

/// <summary>The delegations of a targets role: the keys of the delegated roles, and the roles in order of trust.</summary>
/// <param name="Keys">The keys, by key ID.</param>
/// <param name="Roles">The delegated roles, searched in this order.</param>
public sealed record Delegations(IReadOnlyDictionary<string, TufKey> Keys, IReadOnlyList<DelegatedRole> Roles)
{
    internal static Delegations FromJson(JsonObject obj)
    {
        var keys = KeyMap.FromJson(Fields.Object(obj, "keys", "delegations"), "delegations.keys");
        var list = Fields.Array(obj, "roles", "delegations");
        var roles = new List<DelegatedRole>(list.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var role = DelegatedRole.FromJson(Fields.Object(list[i], $"delegations.roles[{i}]"), $"delegations.roles[{i}]");
            if (!names.Add(role.Name))
            {
                throw Fields.Malformed($"delegations.roles names \"{role.Name}\" twice");
            }

            roles.Add(role);
        }

        return new Delegations(keys, roles);
    }

    internal JsonObject ToJson() => new()
    {
        ["keys"] = KeyMap.ToJson(Keys),
        ["roles"] = new JsonArray([.. Roles.Select(r => (JsonNode)r.ToJson())]),
    };
}
