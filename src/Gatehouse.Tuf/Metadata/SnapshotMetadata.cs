using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;

namespace Gatehouse.Tuf.Metadata;

/// <summary>Snapshot metadata: the current version of every targets metadata file.</summary>
public sealed class SnapshotMetadata : RoleMetadata
{
    /// <summary>Creates snapshot metadata.</summary>
    /// <param name="version">The version.</param>
    /// <param name="expires">The expiry.</param>
    /// <param name="meta">The targets metadata files by file name (<c>targets.json</c>, <c>ROLE.json</c>).</param>
    public SnapshotMetadata(long version, DateTimeOffset expires, IReadOnlyDictionary<string, MetaFile> meta)
        : base(version, expires)
    {
        Meta = meta;
    }

    /// <summary>The targets metadata files by file name (<c>targets.json</c>, <c>ROLE.json</c>).</summary>
    public IReadOnlyDictionary<string, MetaFile> Meta { get; }

    /// <summary>Reads the signed part of snapshot metadata.</summary>
    /// <param name="signed">The signed part.</param>
    /// <returns>The snapshot.</returns>
    public static SnapshotMetadata FromJson(JsonObject signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var (version, expires) = ReadCommon(signed, RoleNames.Snapshot);
        var meta = new Dictionary<string, MetaFile>(StringComparer.Ordinal);
        foreach (var pair in Fields.Object(signed, "meta", "snapshot"))
        {
            meta[pair.Key] = MetaFile.FromJson(pair.Value, $"snapshot.meta.{pair.Key}");
        }

        return new SnapshotMetadata(version, expires, meta);
    }

    /// <summary>The signed part, ready to sign.</summary>
    /// <returns>The JSON.</returns>
    public JsonObject ToJson()
    {
        var signed = NewSigned(RoleNames.Snapshot);
        var meta = new JsonObject();
        foreach (var (name, file) in Meta)
        {
            meta[name] = file.ToJson();
        }

        signed["meta"] = meta;
        return signed;
    }
}
