using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;
using Gatehouse.Tuf.Keys;

namespace Gatehouse.Tuf.Metadata;

/// <summary>The names of the four top-level roles.</summary>
public static class RoleNames
{
    /// <summary>The root role: the keys of every top-level role.</summary>
    public const string Root = "root";

    /// <summary>The timestamp role: the current snapshot, signed often with an online key.</summary>
    public const string Timestamp = "timestamp";

    /// <summary>The snapshot role: the current version of every targets metadata file.</summary>
    public const string Snapshot = "snapshot";

    /// <summary>The targets role: the artifacts, and the delegations to other roles.</summary>
    public const string Targets = "targets";

    /// <summary>Whether <paramref name="name"/> is one of the four.</summary>
    /// <param name="name">A role name.</param>
    /// <returns>Whether it is a top-level role.</returns>
    public static bool IsTopLevel(string name) => name is Root or Timestamp or Snapshot or Targets;

    /// <summary>
    /// The file a role's metadata is published and fetched as (specification 5.3.3): <c>42.root.json</c> for a version,
    /// <c>timestamp.json</c> without one; a delegated role's name percent-encoded. The repository writes, and clients
    /// ask for, exactly this name.
    /// </summary>
    /// <param name="role">The role.</param>
    /// <param name="version">The version, or null for the unversioned file.</param>
    /// <returns>The file name.</returns>
    public static string FileName(string role, long? version = null) =>
        version is { } v
            ? string.Create(CultureInfo.InvariantCulture, $"{v}.{Uri.EscapeDataString(role)}.json")
            : $"{Uri.EscapeDataString(role)}.json";
}

/// <summary>The key IDs of a role and how many of them must sign.</summary>
/// <param name="KeyIds">The key IDs.</param>
/// <param name="Threshold">How many distinct keys must sign; at least 1.</param>
public sealed record RoleKeys(IReadOnlyList<string> KeyIds, int Threshold)
{
    internal static RoleKeys FromJson(JsonObject obj, string where)
    {
        var keyIds = Fields.Strings(obj, "keyids", where);
        if (keyIds.Distinct(StringComparer.Ordinal).Count() != keyIds.Count)
        {
            throw Fields.Malformed($"{where}.keyids lists a key ID twice");
        }

        var threshold = Fields.Integer(obj, "threshold", where);
        if (threshold is < 1 or > int.MaxValue)
        {
            throw Fields.Malformed($"{where}.threshold must be at least 1");
        }

        return new RoleKeys(keyIds, (int)threshold);
    }

    internal void WriteTo(JsonObject obj)
    {
        obj["keyids"] = new JsonArray([.. KeyIds.Select(id => (JsonNode)id)]);
        obj["threshold"] = Threshold;
    }
}

/// <summary>What every role's signed part has: type, specification version, version and expiry.</summary>
public abstract class RoleMetadata
{
    /// <summary>The specification version this library writes.</summary>
    public const string SpecVersion = "1.0.31";

    private protected RoleMetadata(long version, DateTimeOffset expires)
    {
        Version = version;
        Expires = expires;
    }

    /// <summary>The version: 1 and up, one more at each change.</summary>
    public long Version { get; }

    /// <summary>When the metadata stops being trusted.</summary>
    public DateTimeOffset Expires { get; }

    /// <summary>Whether the metadata has expired at <paramref name="referenceTime"/>.</summary>
    /// <param name="referenceTime">The time the update started.</param>
    /// <returns>Whether it has expired.</returns>
    public bool IsExpired(DateTimeOffset referenceTime) => referenceTime >= Expires;

    private protected static (long Version, DateTimeOffset Expires) ReadCommon(JsonObject signed, string type)
    {
        var actual = Fields.String(signed, "_type", "signed");
        if (actual != type)
        {
            throw Fields.Malformed($"expected {type} metadata, got \"{actual}\"");
        }

        var spec = Fields.String(signed, "spec_version", type);
        var parts = spec.Split('.');
        if (parts.Length is < 2 or > 3 || parts[0] != "1" || !parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit)))
        {
            throw Fields.Malformed($"{type}.spec_version \"{spec}\" is not a 1.x version of the specification");
        }

        var version = Fields.Integer(signed, "version", type);
        if (version < 1)
        {
            throw Fields.Malformed($"{type}.version must be 1 or more");
        }

        return (version, Fields.Expiry(signed, type));
    }

    private protected JsonObject NewSigned(string type) => new()
    {
        ["_type"] = type,
        ["spec_version"] = SpecVersion,
        ["version"] = Version,
        ["expires"] = Fields.FormatExpiry(Expires),
    };
}

/// <summary>A metadata file as another lists it: its version and, optionally, length and hashes.</summary>
/// <param name="Version">The version.</param>
/// <param name="Length">The length in bytes, if given.</param>
/// <param name="Hashes">Hashes by algorithm name, hex-encoded, if given.</param>
public sealed record MetaFile(long Version, long? Length = null, IReadOnlyDictionary<string, string>? Hashes = null)
{
    internal static MetaFile FromJson(JsonNode? node, string where)
    {
        var obj = Fields.Object(node, where);
        var version = Fields.Integer(obj, "version", where);
        if (version < 1)
        {
            throw Fields.Malformed($"{where}.version must be 1 or more");
        }

        var length = Fields.OptionalInteger(obj, "length", where);
        if (length < 0)
        {
            throw Fields.Malformed($"{where}.length must not be negative");
        }

        var hashes = Fields.OptionalObject(obj, "hashes", where) is { } h ? FileHashes.FromJson(h, $"{where}.hashes") : null;
        return new MetaFile(version, length, hashes);
    }

    /// <summary>Describes <paramref name="bytes"/> as version <paramref name="version"/>, with length and SHA-256.</summary>
    /// <param name="version">The version.</param>
    /// <param name="bytes">The file.</param>
    /// <returns>The description.</returns>
    public static MetaFile Describe(long version, ReadOnlySpan<byte> bytes) =>
        new(version, bytes.Length, new Dictionary<string, string> { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)) });

    /// <summary>Checks <paramref name="bytes"/> against the length and hashes, where given.</summary>
    /// <param name="what">The file's name, for the error.</param>
    /// <param name="bytes">The file.</param>
    /// <exception cref="TufException">They differ (<see cref="TufFailure.Mismatch"/>).</exception>
    public void Verify(string what, ReadOnlySpan<byte> bytes)
    {
        if (Length is { } length && bytes.Length != length)
        {
            throw new TufException(TufFailure.Mismatch, $"{what} is {bytes.Length} bytes long, not the {length} signed metadata says");
        }

        if (Hashes is not null)
        {
            FileHashes.Verify(what, Hashes, bytes);
        }
    }

    internal JsonObject ToJson()
    {
        var obj = new JsonObject { ["version"] = Version };
        if (Length is { } length)
        {
            obj["length"] = length;
        }

        if (Hashes is not null)
        {
            obj["hashes"] = FileHashes.ToJson(Hashes);
        }

        return obj;
    }
}

/// <summary>The hashes of files: reading, writing and checking them.</summary>
public static class FileHashes
{
    /// <summary>Checks <paramref name="bytes"/> against every hash; an algorithm this build does not know is a failure, not a pass.</summary>
    /// <param name="what">The file's name, for the error.</param>
    /// <param name="hashes">The hashes by algorithm.</param>
    /// <param name="bytes">The file.</param>
    /// <exception cref="TufException">A hash differs or uses an unknown algorithm (<see cref="TufFailure.Mismatch"/>).</exception>
    public static void Verify(string what, IReadOnlyDictionary<string, string> hashes, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        foreach (var (algorithm, expected) in hashes)
        {
            var actual = algorithm switch
            {
                "sha256" => SHA256.HashData(bytes),
                "sha384" => SHA384.HashData(bytes),
                "sha512" => SHA512.HashData(bytes),
                _ => throw new TufException(TufFailure.Mismatch, $"{what} is hashed with {algorithm}, which this client cannot check"),
            };
            if (!string.Equals(Convert.ToHexStringLower(actual), expected, StringComparison.OrdinalIgnoreCase))
            {
                throw new TufException(TufFailure.Mismatch, $"{what} does not match its {algorithm} hash in signed metadata");
            }
        }
    }

    internal static IReadOnlyDictionary<string, string> FromJson(JsonObject obj, string where)
    {
        if (obj.Count == 0)
        {
            throw Fields.Malformed($"{where} must name at least one hash");
        }

        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in obj)
        {
            hashes[pair.Key] = Fields.String(pair.Value, $"{where}.{pair.Key}");
        }

        return hashes;
    }

    internal static JsonObject ToJson(IReadOnlyDictionary<string, string> hashes)
    {
        var obj = new JsonObject();
        foreach (var (algorithm, value) in hashes)
        {
            obj[algorithm] = value;
        }

        return obj;
    }
}

/// <summary>Reads and writes the key maps of root and delegations.</summary>
internal static class KeyMap
{
    public static IReadOnlyDictionary<string, TufKey> FromJson(JsonObject obj, string where)
    {
        var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
        foreach (var pair in obj)
        {
            keys[pair.Key] = TufKey.FromJson(pair.Value, $"{where}.{pair.Key}");
        }

        return keys;
    }

    public static JsonObject ToJson(IReadOnlyDictionary<string, TufKey> keys)
    {
        var obj = new JsonObject();
        foreach (var (id, key) in keys)
        {
            obj[id] = key.ToJson();
        }

        return obj;
    }
}
