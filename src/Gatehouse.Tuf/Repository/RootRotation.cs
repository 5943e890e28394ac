using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Repository;

/// <summary>
/// What the next root version changes (<see cref="TufRepository.SignNextRoot"/>): its expiry always; the keys of any
/// top-level role given here. A role whose keys are given is re-signed with them in the same step (a new version over
/// the same content), so that nothing clients fetch is left signed by keys the new root no longer lists.
/// </summary>
public sealed class RootRotation
{
    /// <summary>When the new root expires.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>Keys of the current root: at least its threshold of them must sign the new one.</summary>
    public required IReadOnlyList<TufSigner> CurrentRootKeys { get; init; }

    /// <summary>
    /// The new root's root keys, or <see langword="null"/> to keep the current ones. The new root must be signed by its
    /// threshold of these as well; a key both lists share is given once, in either list.
    /// </summary>
    public IReadOnlyList<TufSigner>? RootKeys { get; init; }

    /// <summary>How many root keys must sign the new root, or <see langword="null"/> to keep the current threshold.</summary>
    public int? RootThreshold { get; init; }

    /// <summary>
    /// The new targets keys (all of them sign; the threshold is their number), or <see langword="null"/> to keep the current ones.
    /// Given, targets is re-signed, which needs a new snapshot (<see cref="SnapshotKeys"/>).
    /// </summary>
    public IReadOnlyList<TufSigner>? TargetsKeys { get; init; }

    /// <summary>
    /// The new snapshot keys, or <see langword="null"/> to keep the current ones. Given, snapshot is re-signed, which needs a
    /// new timestamp (<see cref="TimestampKeys"/>).
    /// </summary>
    public IReadOnlyList<TufSigner>? SnapshotKeys { get; init; }

    /// <summary>The new timestamp keys, or <see langword="null"/> to keep the current ones. Given, timestamp is re-signed.</summary>
    public IReadOnlyList<TufSigner>? TimestampKeys { get; init; }

    /// <summary>The expiry of targets, when it is re-signed.</summary>
    public DateTimeOffset TargetsExpires { get; init; }

    /// <summary>The expiry of snapshot and timestamp, when they are re-signed.</summary>
    public DateTimeOffset OnlineExpires { get; init; }
}

/// <summary>What <see cref="TufRepository.SignNextRoot"/> wrote.</summary>
/// <param name="RootVersion">The new root's version.</param>
/// <param name="Resigned">The version written of each other top-level role it re-signed.</param>
public sealed record RootSigned(long RootVersion, IReadOnlyDictionary<string, long> Resigned);

/// <summary>One role as <see cref="TufRepository.States"/> found it.</summary>
/// <param name="Name">The role.</param>
/// <param name="Version">Its latest version.</param>
/// <param name="Expires">When that version expires.</param>
/// <param name="Keys">The key IDs and threshold it is checked against (root's, or its delegator's).</param>
public sealed record RoleState(string Name, long Version, DateTimeOffset Expires, RoleKeys Keys);

/// <summary>A file clients fetch and refuse, as <see cref="TufRepository.FindPublishedFault"/> found it.</summary>
/// <param name="File">The file, relative to the repository's directory.</param>
/// <param name="Reason">Why clients refuse it.</param>
public sealed record PublishedFault(string File, string Reason);
