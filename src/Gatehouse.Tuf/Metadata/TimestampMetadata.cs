using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;

namespace Gatehouse.Tuf.Metadata;

/// <summary>Timestamp metadata: the current snapshot's version (and length and hashes, if given).</summary>
public sealed class TimestampMetadata : RoleMetadata
{
    /// <summary>The one file timestamp metadata describes.</summary>
    public const string SnapshotFile = "snapshot.json";

    /// <summary>Creates timestamp metadata.</summary>
    /// <param name="version">The version.</param>
    /// <param name="expires">The expiry.</param>
    /// <param name="snapshot">The current snapshot.</param>
    public TimestampMetadata(long version, DateTimeOffset expires, MetaFile snapshot)
        : base(version, expires)
    {
        Snapshot = snapshot;
    }

    /// <summary>The current snapshot.</summary>
    public MetaFile Snapshot { get; }

    /// <summary>Reads the signed part of timestamp metadata.</summary>
    /// <param name="signed">The signed part.</param>
    /// <returns>The timestamp.</returns>
    public static TimestampMetadata FromJson(JsonObject signed)
    {
        ArgumentNullException.ThrowIfNull(signed);
        var (version, expires) = ReadCommon(signed, RoleNames.Timestamp);
        var meta = Fields.Object(signed, "meta", "timestamp");
        if (meta.Count != 1 || !meta.ContainsKey(SnapshotFile))
        {
            throw Fields.Malformed("timestamp.meta must describe snapshot.json and nothing else");
        }

        return new TimestampMetadata(version, expires, MetaFile.FromJson(meta[SnapshotFile], "timestamp.meta.snapshot.json"));
    }

    /// <summary>The signed part, ready to sign.</summary>
    /// <returns>The JSON.</returns>
    public JsonObject ToJson()
    {
        var signed = NewSigned(RoleNames.Timestamp);
        signed["meta"] = new JsonObject { [SnapshotFile] = Snapshot.ToJson() };
        return signed;
    }
}
