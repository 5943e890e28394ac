namespace Gatehouse.Tuf.Client;

/// <summary>Where a TUF client keeps its state and fetches from, and its limits.</summary>
public sealed record UpdaterOptions
{
    /// <summary>Where trusted metadata is kept; it must hold <c>root.json</c> before the first refresh.</summary>
    public required string MetadataDirectory { get; init; }

    /// <summary>The repository's metadata URL (<c>https://portal/tuf/metadata/</c>).</summary>
    public required Uri MetadataBaseUrl { get; init; }

    /// <summary>The repository's artifact URL; needed only to download targets.</summary>
    public Uri? TargetBaseUrl { get; init; }

    /// <summary>Where downloaded artifacts go; needed only to download targets.</summary>
    public string? TargetDirectory { get; init; }

    /// <summary>How many root versions one refresh may step through (a bound against endless rotation).</summary>
    public int MaxRootRotations { get; init; } = 256;

    /// <summary>How many targets roles one search may visit.</summary>
    public int MaxDelegations { get; init; } = 32;

    /// <summary>The most a root file may hold, in bytes.</summary>
    public long RootMaxLength { get; init; } = 512_000;

    /// <summary>The most a timestamp file may hold, in bytes.</summary>
    public long TimestampMaxLength { get; init; } = 16_384;

    /// <summary>The most a snapshot file may hold when the timestamp gives no length.</summary>
    public long SnapshotMaxLength { get; init; } = 2_000_000;

    /// <summary>The most a targets file may hold when the snapshot gives no length.</summary>
    public long TargetsMaxLength { get; init; } = 5_000_000;

    /// <summary>Whether artifacts are fetched as <c>DIR/HASH.NAME</c> when the root asks for consistent snapshots.</summary>
    public bool PrefixTargetsWithHash { get; init; } = true;
}
