using Gatehouse.Content.Packages;

namespace Gatehouse.Content.Channels;

/// <summary>What a loader produced, with the version it came from.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Version">The content version.</param>
/// <param name="Value">The typed content.</param>
/// <param name="Records">How many records it holds.</param>
public sealed record LoadedContent(string Channel, string Version, object Value, int Records);

/// <summary>
/// One content channel as this build reads it: the schema version and the exact fields it was
/// built for, and the loader of its records. A package whose header differs is refused before
/// any record is read.
/// </summary>
public abstract class ContentChannel
{
    /// <summary>The channel's name.</summary>
    public abstract string Name { get; }

    /// <summary>The record schema version this build reads.</summary>
    public abstract int SchemaVersion { get; }

    /// <summary>The fields this build reads, in order.</summary>
    public abstract IReadOnlyList<string> Fields { get; }

    /// <summary>Checks the header against this build, then loads every record.</summary>
    /// <param name="package">The parsed package.</param>
    /// <returns>The loaded content.</returns>
    /// <exception cref="ContentException">The header differs, or a record is refused.</exception>
    public LoadedContent Load(ContentPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        if (package.Channel != Name)
        {
            throw new ContentException($"content is for channel {package.Channel}, not {Name}", "channel");
        }

        if (package.SchemaVersion != SchemaVersion)
        {
            throw new ContentException($"{Name} content has schema version {package.SchemaVersion}; this build reads version {SchemaVersion}", "schemaVersion");
        }

        if (package.Fields.Count != Fields.Count)
        {
            throw new ContentException($"{Name} content declares {package.Fields.Count} fields; this build reads {Fields.Count} ({string.Join(", ", Fields)})", "fields");
        }

        for (var i = 0; i < Fields.Count; i++)
        {
            if (package.Fields[i] != Fields[i])
            {
                throw new ContentException($"{Name} content field {i + 1} is \"{package.Fields[i]}\"; this build reads \"{Fields[i]}\" there", $"fields[{i}]");
            }
        }

        for (var i = 0; i < package.Records.Count; i++)
        {
            if (package.Records[i].Count != Fields.Count)
            {
                throw new ContentException($"{Name} content records[{i}] has {package.Records[i].Count} values; every record has {Fields.Count}", $"records[{i}]");
            }
        }

        return new LoadedContent(Name, package.Version, LoadRecords(package.Records), package.Records.Count);
    }

    /// <summary>Interprets records whose shape was checked.</summary>
    /// <param name="records">The records, each with exactly one value per field.</param>
    /// <returns>The typed content.</returns>
    protected abstract object LoadRecords(IReadOnlyList<IReadOnlyList<string>> records);
}

/// <summary>The channels this build reads, by name.</summary>
public static class ContentChannels
{
    private static readonly Dictionary<string, ContentChannel> Known = new(StringComparer.Ordinal)
    {
        [BypassChannel.ChannelName] = new BypassChannel(),
    };

    /// <summary>Every channel this build reads.</summary>
    public static IReadOnlyCollection<ContentChannel> All => Known.Values;

    /// <summary>The channel named <paramref name="name"/>.</summary>
    /// <param name="name">A channel name.</param>
    /// <returns>The channel.</returns>
    /// <exception cref="ContentException">This build reads no such channel.</exception>
    public static ContentChannel Get(string name) =>
        Known.GetValueOrDefault(name) ?? throw new ContentException($"this build reads no content channel \"{name}\" (it reads {string.Join(", ", Known.Keys)})", "channel");

    /// <summary>Parses a content file and loads it with its channel's loader: exactly what the agent does.</summary>
    /// <param name="utf8">The file.</param>
    /// <returns>The loaded content.</returns>
    /// <exception cref="ContentException">The content is refused.</exception>
    public static LoadedContent Load(ReadOnlySpan<byte> utf8)
    {
        var package = ContentPackage.Parse(utf8);
        return Get(package.Channel).Load(package);
    }
}
