using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Client;

/// <summary>Metadata that passed verification: the typed view and the exact bytes to store.</summary>
/// <typeparam name="T">The role's metadata type.</typeparam>
/// <param name="Role">The typed view.</param>
/// <param name="Bytes">The file, exactly as received.</param>
public sealed record Verified<T>(T Role, byte[] Bytes)
    where T : RoleMetadata;

/// <summary>
/// The metadata a client trusts during one update, and the rules for admitting more (TUF
/// specification section 5). Every method either admits the new file or throws and leaves the
/// set as it was — except where the specification keeps a file as trusted only to protect
/// against rollback (an expired timestamp, an old snapshot), in which case the file is admitted
/// and the method still throws, so that nothing downstream uses it as final.
/// </summary>
/// <remarks>
/// Order is enforced: root rotations first, then timestamp, snapshot, top-level targets and
/// delegated targets. <c>referenceTime</c> is fixed when the update starts (5.1).
/// </remarks>
public sealed class TrustedMetadata
{
    private readonly DateTimeOffset referenceTime;
    private readonly Dictionary<string, Verified<TargetsMetadata>> targets = new(StringComparer.Ordinal);

    private TrustedMetadata(Verified<RootMetadata> root, DateTimeOffset referenceTime)
    {
        Root = root;
        this.referenceTime = referenceTime;
    }

    /// <summary>The trusted root.</summary>
    public Verified<RootMetadata> Root { get; private set; }

    /// <summary>The trusted timestamp, once loaded.</summary>
    public Verified<TimestampMetadata>? Timestamp { get; private set; }

    /// <summary>The trusted snapshot, once loaded.</summary>
    public Verified<SnapshotMetadata>? Snapshot { get; private set; }

    /// <summary>Trusted targets metadata by role name (<c>targets</c> and delegated roles).</summary>
    public IReadOnlyDictionary<string, Verified<TargetsMetadata>> Targets => targets;

    /// <summary>
    /// Starts from the root the client trusts already (5.2). It must be signed by a threshold of
    /// its own root keys; it may have expired, since a newer root may follow.
    /// </summary>
    /// <param name="rootBytes">The trusted root file.</param>
    /// <param name="referenceTime">The time the update started.</param>
    /// <returns>The set.</returns>
    public static TrustedMetadata Start(byte[] rootBytes, DateTimeOffset referenceTime)
    {
        ArgumentNullException.ThrowIfNull(rootBytes);
        var metadata = SignedMetadata.Parse(rootBytes);
        var root = RootMetadata.FromJson(metadata.Signed);
        metadata.VerifyThreshold("root", root.Keys, root.Role(RoleNames.Root));
        return new TrustedMetadata(new Verified<RootMetadata>(root, rootBytes), referenceTime);
    }

    /// <summary>
    /// Admits the next root (5.3): signed by a threshold of the trusted root's root keys and of
    /// its own, and exactly one version newer. Expiry is checked only for the last root, by
    /// <see cref="UpdateTimestamp"/>.
    /// </summary>
    /// <param name="bytes">The file <c>N+1.root.json</c>.</param>
    public void UpdateRoot(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (Timestamp is not null)
        {
            throw new TufException(TufFailure.State, "root cannot change once timestamp is loaded");
        }

        var metadata = SignedMetadata.Parse(bytes);
        var root = RootMetadata.FromJson(metadata.Signed);
        metadata.VerifyThreshold("new root (by the trusted root's keys)", Root.Role.Keys, Root.Role.Role(RoleNames.Root));
        if (root.Version != Root.Role.Version + 1)
        {
            throw new TufException(TufFailure.Rollback, $"expected root version {Root.Role.Version + 1}, got {root.Version}");
        }

        metadata.VerifyThreshold("new root (by its own keys)", root.Keys, root.Role(RoleNames.Root));
        Root = new Verified<RootMetadata>(root, bytes);
    }

    /// <summary>
    /// Admits a timestamp (5.4): the final root must not have expired; the timestamp must be
    /// signed by the root's timestamp keys, not older than the trusted one, and name a snapshot
    /// version no older than the trusted timestamp's.
    /// </summary>
    /// <param name="bytes">The file <c>timestamp.json</c>.</param>
    /// <returns><see langword="false"/> when it is the version already trusted (it is then discarded); <see langword="true"/> when admitted.</returns>
    /// <exception cref="TufException">Refused, or admitted for rollback protection only because it has expired.</exception>
    public bool UpdateTimestamp(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (Snapshot is not null)
        {
            throw new TufException(TufFailure.State, "timestamp cannot change once snapshot is loaded");
        }

        if (Root.Role.IsExpired(referenceTime))
        {
            throw new TufException(TufFailure.Expired, $"the final root (version {Root.Role.Version}) expired at {Root.Role.Expires:u}");
        }

        var metadata = SignedMetadata.Parse(bytes);
        var timestamp = TimestampMetadata.FromJson(metadata.Signed);
        metadata.VerifyThreshold("timestamp", Root.Role.Keys, Root.Role.Role(RoleNames.Timestamp));
        if (Timestamp is { } trusted)
        {
            if (timestamp.Version < trusted.Role.Version)
            {
                throw new TufException(TufFailure.Rollback, $"timestamp version {timestamp.Version} is older than the trusted {trusted.Role.Version}");
            }

            if (timestamp.Version == trusted.Role.Version)
            {
                return false;
            }

            if (timestamp.Snapshot.Version < trusted.Role.Snapshot.Version)
            {
                throw new TufException(TufFailure.Rollback, $"timestamp names snapshot version {timestamp.Snapshot.Version}, older than the trusted {trusted.Role.Snapshot.Version}");
            }
        }

        Timestamp = new Verified<TimestampMetadata>(timestamp, bytes);
        CheckFinalTimestamp();
        return true;
    }

    /// <summary>
    /// Admits a snapshot (5.5): length and hashes as the timestamp names them (skipped for a copy
    /// read back from local storage, which was checked when it arrived), signed by the root's
    /// snapshot keys, no targets file missing or older than in the trusted snapshot, then the
    /// version the timestamp names and not expired.
    /// </summary>
    /// <param name="bytes">The snapshot file.</param>
    /// <param name="fromLocalStorage">Whether the file is the client's own stored copy.</param>
    public void UpdateSnapshot(byte[] bytes, bool fromLocalStorage)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var timestamp = Timestamp ?? throw new TufException(TufFailure.State, "snapshot needs a timestamp first");
        if (targets.Count > 0)
        {
            throw new TufException(TufFailure.State, "snapshot cannot change once targets are loaded");
        }

        CheckFinalTimestamp();
        if (!fromLocalStorage)
        {
            timestamp.Role.Snapshot.Verify("snapshot", bytes);
        }

        var metadata = SignedMetadata.Parse(bytes);
        var snapshot = SnapshotMetadata.FromJson(metadata.Signed);
        metadata.VerifyThreshold("snapshot", Root.Role.Keys, Root.Role.Role(RoleNames.Snapshot));
        if (Snapshot is { } trusted)
        {
            foreach (var (file, old) in trusted.Role.Meta)
            {
                if (!snapshot.Meta.TryGetValue(file, out var now))
                {
                    throw new TufException(TufFailure.Rollback, $"snapshot no longer lists {file}");
                }

                if (now.Version < old.Version)
                {
                    throw new TufException(TufFailure.Rollback, $"snapshot names {file} version {now.Version}, older than the trusted {old.Version}");
                }
            }
        }

        Snapshot = new Verified<SnapshotMetadata>(snapshot, bytes);
        CheckFinalSnapshot();
    }

    /// <summary>Admits top-level targets metadata (5.6).</summary>
    /// <param name="bytes">The file.</param>
    public void UpdateTargets(byte[] bytes) => UpdateDelegatedTargets(bytes, RoleNames.Targets, RoleNames.Root);

    /// <summary>
    /// Admits targets metadata of <paramref name="role"/> (5.6, 5.7): listed in the snapshot,
    /// matching its length and hashes, signed by the threshold its delegator sets, of exactly the
    /// version the snapshot names, and not expired.
    /// </summary>
    /// <param name="bytes">The file.</param>
    /// <param name="role">The role name.</param>
    /// <param name="delegator"><c>root</c> for top-level targets, else the delegating role.</param>
    public void UpdateDelegatedTargets(byte[] bytes, string role, string delegator)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var snapshot = Snapshot ?? throw new TufException(TufFailure.State, "targets need a snapshot first");
        CheckFinalSnapshot();
        if (!snapshot.Role.Meta.TryGetValue($"{role}.json", out var meta))
        {
            throw new TufException(TufFailure.Malformed, $"snapshot does not list {role}.json");
        }

        meta.Verify($"{role}.json", bytes);
        var metadata = SignedMetadata.Parse(bytes);
        var targetsRole = TargetsMetadata.FromJson(metadata.Signed);
        if (delegator == RoleNames.Root)
        {
            metadata.VerifyThreshold(role, Root.Role.Keys, Root.Role.Role(RoleNames.Targets));
        }
        else
        {
            var parent = targets.GetValueOrDefault(delegator) ?? throw new TufException(TufFailure.State, $"{role} needs its delegator {delegator} first");
            var delegation = parent.Role.Delegations?.Roles.FirstOrDefault(r => r.Name == role)
                ?? throw new TufException(TufFailure.State, $"{delegator} does not delegate to {role}");
            metadata.VerifyThreshold(role, parent.Role.Delegations!.Keys, delegation.Keys);
        }

        if (targetsRole.Version != meta.Version)
        {
            throw new TufException(TufFailure.Rollback, $"{role} is version {targetsRole.Version}, but the snapshot names version {meta.Version}");
        }

        if (targetsRole.IsExpired(referenceTime))
        {
            throw new TufException(TufFailure.Expired, $"{role} expired at {targetsRole.Expires:u}");
        }

        targets[role] = new Verified<TargetsMetadata>(targetsRole, bytes);
    }

    private void CheckFinalTimestamp()
    {
        var timestamp = Timestamp!.Role;
        if (timestamp.IsExpired(referenceTime))
        {
            throw new TufException(TufFailure.Expired, $"timestamp expired at {timestamp.Expires:u}");
        }
    }

    private void CheckFinalSnapshot()
    {
        var snapshot = Snapshot!.Role;
        if (snapshot.IsExpired(referenceTime))
        {
            throw new TufException(TufFailure.Expired, $"snapshot expired at {snapshot.Expires:u}");
        }

        var expected = Timestamp!.Role.Snapshot.Version;
        if (snapshot.Version != expected)
        {
            throw new TufException(TufFailure.Rollback, $"snapshot is version {snapshot.Version}, but the timestamp names version {expected}");
        }
    }
}
