using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Trust;
using Gatehouse.Tuf.Client;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Repository;

/// <summary>
/// A TUF repository on disk, as clients fetch it with consistent snapshots:
/// <code>
///   DIR/metadata/N.root.json            every root version (clients walk the chain)
///   DIR/metadata/V.ROLE.json            targets and delegated roles, by version
///   DIR/metadata/V.snapshot.json
///   DIR/metadata/timestamp.json         the one unversioned file
///   DIR/metadata/ROLE.json              a copy of the latest of each, for clients without consistent snapshots
///   DIR/targets/PATH/HASH.NAME          artifacts under each hash, and under PATH/NAME
/// </code>
/// Every write signs a new version and is atomic; nothing is ever rewritten under an existing
/// version number. Root and targets are meant to be signed with offline keys (the
/// <c>gatehouse release</c> commands), snapshot and timestamp with the online keys the portal holds.
/// </summary>
public sealed class TufRepository
{
    // The root versions as last checked, with their bytes (see Root).
    private RootChain rootChain = RootChain.Empty;

    private TufRepository(string directory)
    {
        Directory = directory;
    }

    /// <summary>The repository's directory.</summary>
    public string Directory { get; }

    /// <summary>Where metadata files are.</summary>
    public string MetadataDirectory => Path.Combine(Directory, VersionedFile.MetadataFolder);

    /// <summary>Where artifacts are.</summary>
    public string TargetsDirectory => Path.Combine(Directory, "targets");

    /// <summary>
    /// The latest root, its chain checked from version 1: each version signed by its own keys and its predecessor's,
    /// as a client checks it, so that nothing is signed on top of a root someone wrote into the directory. The root
    /// files are read on every call, and only versions whose bytes differ from those checked last are checked again.
    /// </summary>
    /// <exception cref="TufException">A root in the chain is not signed as it must be, or a version is missing.</exception>
    public RootMetadata Root
    {
        get
        {
            // Immutable and replaced whole, so threads that race here each get a chain checked against the bytes they read.
            var chain = rootChain.Check(ReadRootFiles());
            rootChain = chain;
            return chain.Latest ?? throw new TufException(TufFailure.NotFound, $"{Directory} holds no root");
        }
    }

    private byte[][] ReadRootFiles()
    {
        var latest = LatestVersion(RoleNames.Root);
        var files = new byte[latest][];
        for (var version = 1L; version <= latest; version++)
        {
            try
            {
                files[version - 1] = Read(RoleNames.Root, version);
            }
            catch (FileNotFoundException)
            {
                // Clients fetch N+1.root.json after N and stop at the first one missing (specification 5.3.3).
                throw new TufException(TufFailure.NotFound, $"{VersionedFile.RelativePath(RoleNames.Root, version)} is missing, yet {VersionedFile.RelativePath(RoleNames.Root, latest)} exists: " +
                    $"clients fetch root versions one after another and stop at the first missing, and a version is never skipped; move the root files after version {version - 1} out of the repository");
            }
        }

        return files;
    }

    /// <summary>Opens an existing repository.</summary>
    /// <param name="directory">The directory.</param>
    /// <returns>The repository.</returns>
    /// <exception cref="TufException">It holds no root (<see cref="TufFailure.State"/>).</exception>
    public static TufRepository Open(string directory)
    {
        var repository = new TufRepository(directory);
        if (repository.LatestVersion(RoleNames.Root) == 0)
        {
            throw new TufException(TufFailure.NotFound, $"{directory} holds no TUF repository (no metadata/1.root.json); create one first");
        }

        return repository;
    }

    /// <summary>
    /// Creates a repository: root version 1, empty targets, snapshot and timestamp, each signed
    /// with the keys given for its role.
    /// </summary>
    /// <param name="directory">An empty or missing directory.</param>
    /// <param name="root">Root version 1.</param>
    /// <param name="keys">The signers of each top-level role.</param>
    /// <param name="expires">The expiry of targets, snapshot and timestamp.</param>
    /// <returns>The repository.</returns>
    public static TufRepository Create(string directory, RootMetadata root, IReadOnlyDictionary<string, IReadOnlyList<TufSigner>> keys, Func<string, DateTimeOffset> expires)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(expires);
        var repository = new TufRepository(directory);
        if (repository.LatestVersion(RoleNames.Root) != 0)
        {
            throw new TufException(TufFailure.State, $"{directory} already holds a TUF repository");
        }

        if (root.Version != 1)
        {
            throw new TufException(TufFailure.State, "a new repository starts at root version 1");
        }

        repository.SignRoot(root, keys[RoleNames.Root]);
        repository.SignTargets(RoleNames.Targets, new TargetsMetadata(1, expires(RoleNames.Targets), new Dictionary<string, TargetFile>()), keys[RoleNames.Targets]);
        repository.SignSnapshot(keys[RoleNames.Snapshot], expires(RoleNames.Snapshot));
        repository.SignTimestamp(keys[RoleNames.Timestamp], expires(RoleNames.Timestamp));
        return repository;
    }

    /// <summary>
    /// Writes the next root. For a rotation, <paramref name="signers"/> must hold a threshold of
    /// the previous root's keys as well as of the new one's; this is checked before writing.
    /// </summary>
    /// <param name="root">The root, of the next version.</param>
    /// <param name="signers">The keys to sign with.</param>
    public void SignRoot(RootMetadata root, IEnumerable<TufSigner> signers)
    {
        ArgumentNullException.ThrowIfNull(root);
        var version = LatestVersion(RoleNames.Root) + 1;
        if (root.Version != version)
        {
            throw new TufException(TufFailure.State, $"the next root is version {version}, not {root.Version}");
        }

        var bytes = SignedMetadata.Sign(root.ToJson(), signers);
        var written = SignedMetadata.Parse(bytes);
        written.VerifyThreshold("root (by its own keys)", root.Keys, root.Role(RoleNames.Root));
        if (version > 1)
        {
            var previous = Root;
            written.VerifyThreshold("root (by the previous root's keys)", previous.Keys, previous.Role(RoleNames.Root));
        }

        WriteMetadata(RoleNames.Root, version, bytes);
    }

    /// <summary>
    /// Signs root version N+1 (specification 6.1; clients check it as 5.3.4 says) and re-signs, in the same step, every
    /// other top-level role whose keys <paramref name="rotation"/> gives, so that no file clients fetch is left signed by
    /// keys the new root no longer lists:
    /// <code>
    ///   root chain from 1.root.json; targets under root N      checked: nothing is signed over an edit
    ///   every targets role a new snapshot lists, or the snapshot a new timestamp alone names: checked the same way
    ///   a threshold of root N's keys given?                     else refused, with how many were given and needed
    ///   root N+1 signed by a threshold of its own root keys?    else refused
    ///   targets given → snapshot given → timestamp given        else refused: clients would find the chain broken
    ///   each new version signed in memory, checked against root N+1
    ///   written: targets, snapshot (no client reads them before the timestamp names them), root N+1, timestamp
    /// </code>
    /// Nothing is written until every check has passed; each file is replaced atomically.
    /// </summary>
    /// <param name="rotation">The new expiry, and the keys that sign and change.</param>
    /// <returns>The versions written.</returns>
    /// <exception cref="TufException">
    /// Too few keys of the current or the new root (<see cref="TufFailure.Unsigned"/>), a threshold the new keys cannot
    /// meet or a re-signed role whose dependants are not (<see cref="TufFailure.State"/>), or a repository that does not
    /// verify.
    /// </exception>
    public RootSigned SignNextRoot(RootRotation rotation)
    {
        ArgumentNullException.ThrowIfNull(rotation);
        var current = Root;
        var currentRoot = current.Role(RoleNames.Root);
        var foreign = rotation.CurrentRootKeys.FirstOrDefault(s => !currentRoot.KeyIds.Contains(s.KeyId, StringComparer.Ordinal));
        if (foreign is not null)
        {
            throw new TufException(TufFailure.Unsigned, $"key {foreign.KeyId} is not a root key of root version {current.Version}");
        }

        var currentGiven = rotation.CurrentRootKeys.Select(s => s.KeyId).Distinct(StringComparer.Ordinal).Count();
        if (currentGiven < currentRoot.Threshold)
        {
            throw new TufException(TufFailure.Unsigned, $"root version {current.Version} needs {currentRoot.Threshold} of its {KeyCount.Of(currentRoot.KeyIds.Count, RoleNames.Root)} to sign the next version; {currentGiven} given");
        }

        if (rotation.TargetsKeys is not null && rotation.SnapshotKeys is null)
        {
            throw new TufException(TufFailure.State, "a re-signed targets needs a new snapshot that lists it: give the snapshot keys too (the current ones to keep them)");
        }

        if (rotation.SnapshotKeys is not null && rotation.TimestampKeys is null)
        {
            throw new TufException(TufFailure.State, "a re-signed snapshot needs a new timestamp that names it: give the timestamp keys too (the current ones to keep them)");
        }

        if (rotation.SnapshotKeys is not null)
        {
            VerifyTargetsRoles(NotSignedOver(RoleNames.Snapshot));
        }
        else if (rotation.TimestampKeys is not null)
        {
            VerifySnapshot(NotSignedOver(RoleNames.Timestamp));
        }

        var next = NextRoot(current, rotation);
        var nextRoot = next.Role(RoleNames.Root);
        var signers = rotation.CurrentRootKeys.Concat(rotation.RootKeys ?? []).DistinctBy(s => s.KeyId, StringComparer.Ordinal).ToList();
        var newGiven = signers.Count(s => nextRoot.KeyIds.Contains(s.KeyId, StringComparer.Ordinal));
        if (newGiven < nextRoot.Threshold)
        {
            throw new TufException(TufFailure.Unsigned, $"root version {next.Version} needs {nextRoot.Threshold} of its {KeyCount.Of(nextRoot.KeyIds.Count, RoleNames.Root)} to sign it; {newGiven} given");
        }

        var rootBytes = SignedMetadata.Sign(next.ToJson(), signers);
        var written = SignedMetadata.Parse(rootBytes);
        written.VerifyThreshold($"root version {next.Version} (by its own keys)", next.Keys, nextRoot);
        written.VerifyThreshold($"root version {next.Version} (by version {current.Version}'s keys)", current.Keys, currentRoot);

        var files = new List<(string Role, long Version, byte[] Bytes)>();
        (long Version, byte[] Bytes)? targets = null;
        if (rotation.TargetsKeys is { } targetsKeys)
        {
            var latest = Targets(RoleNames.Targets) ?? throw new TufException(TufFailure.State, "the repository has no targets to re-sign");
            var version = LatestVersion(RoleNames.Targets) + 1;
            targets = (version, SignedMetadata.Sign(new TargetsMetadata(version, rotation.TargetsExpires, latest.Targets, latest.Delegations).ToJson(), targetsKeys));
            files.Add((RoleNames.Targets, version, targets.Value.Bytes));
        }

        (long Version, byte[] Bytes)? snapshot = null;
        if (rotation.SnapshotKeys is { } snapshotKeys)
        {
            var metadata = NextSnapshot(rotation.OnlineExpires, targets);
            snapshot = (metadata.Version, SignedMetadata.Sign(metadata.ToJson(), snapshotKeys));
            files.Add((RoleNames.Snapshot, metadata.Version, snapshot.Value.Bytes));
        }

        files.Add((RoleNames.Root, next.Version, rootBytes));
        (long Version, byte[] Bytes)? timestamp = null;
        if (rotation.TimestampKeys is { } timestampKeys)
        {
            var metadata = NextTimestamp(rotation.OnlineExpires, snapshot ?? Latest(RoleNames.Snapshot));
            timestamp = (metadata.Version, SignedMetadata.Sign(metadata.ToJson(), timestampKeys));
            SignedMetadata.Parse(timestamp.Value.Bytes).VerifyThreshold($"timestamp version {metadata.Version}", next.Keys, next.Role(RoleNames.Timestamp));
        }

        foreach (var (role, version, bytes) in files)
        {
            SignedMetadata.Parse(bytes).VerifyThreshold($"{role} version {version}", next.Keys, next.Role(role));
            if (File.Exists(VersionedPath(role, version)))
            {
                throw new TufException(TufFailure.State, $"{role} version {version} exists already; a version is never rewritten");
            }
        }

        foreach (var (role, version, bytes) in files)
        {
            WriteMetadata(role, version, bytes);
        }

        var resigned = files.Where(f => f.Role != RoleNames.Root).ToDictionary(f => f.Role, f => f.Version, StringComparer.Ordinal);
        if (timestamp is not null)
        {
            WriteFile(TimestampPath, timestamp.Value.Bytes);
            resigned[RoleNames.Timestamp] = timestamp.Value.Version;
        }

        return new RootSigned(next.Version, resigned);
    }

    // Root N+1: every role's keys as the rotation gives them, else as root N has them; keys no role lists are dropped.
    private static RootMetadata NextRoot(RootMetadata current, RootRotation rotation)
    {
        var given = new Dictionary<string, IReadOnlyList<TufSigner>?>(StringComparer.Ordinal)
        {
            [RoleNames.Root] = rotation.RootKeys,
            [RoleNames.Targets] = rotation.TargetsKeys,
            [RoleNames.Snapshot] = rotation.SnapshotKeys,
            [RoleNames.Timestamp] = rotation.TimestampKeys,
        };
        var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
        var roles = new Dictionary<string, RoleKeys>(StringComparer.Ordinal);
        foreach (var (role, signers) in given)
        {
            if (signers is null)
            {
                roles[role] = current.Role(role);
                foreach (var id in roles[role].KeyIds)
                {
                    keys[id] = current.Keys[id];
                }

                continue;
            }

            var distinct = signers.DistinctBy(s => s.KeyId, StringComparer.Ordinal).ToList();
            if (distinct.Count == 0)
            {
                throw new TufException(TufFailure.State, $"the new {role} role needs at least one key");
            }

            roles[role] = new RoleKeys([.. distinct.Select(s => s.KeyId)], distinct.Count);
            foreach (var signer in distinct)
            {
                keys[signer.KeyId] = signer.PublicKey;
            }
        }

        var rootIds = roles[RoleNames.Root].KeyIds;
        var threshold = rotation.RootThreshold ?? current.Role(RoleNames.Root).Threshold;
        if (threshold < 1 || threshold > rootIds.Count)
        {
            throw new TufException(TufFailure.State, rotation.RootThreshold is null
                ? $"the new root lists {KeyCount.Of(rootIds.Count, RoleNames.Root)}, fewer than the current threshold of {threshold}: give the new threshold"
                : $"a root threshold of {threshold} cannot be met by the {KeyCount.Of(rootIds.Count, RoleNames.Root)} the new root lists");
        }

        roles[RoleNames.Root] = new RoleKeys(rootIds, threshold);
        return new RootMetadata(current.Version + 1, rotation.Expires, keys, roles, current.ConsistentSnapshot);
    }

    /// <summary>
    /// Signs the next version of a targets role (top-level or delegated) with the given content.
    /// The signatures are checked against the role's keys as root or its delegator lists them
    /// before anything is written, so a wrong key file fails here rather than on every client.
    /// </summary>
    /// <param name="role">The role.</param>
    /// <param name="targets">The content; its version is replaced by the next one.</param>
    /// <param name="signers">The role's keys.</param>
    /// <returns>The version written.</returns>
    public long SignTargets(string role, TargetsMetadata targets, IEnumerable<TufSigner> signers)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var version = LatestVersion(role) + 1;
        var next = new TargetsMetadata(version, targets.Expires, targets.Targets, targets.Delegations);
        var bytes = SignedMetadata.Sign(next.ToJson(), signers);
        var (keys, roleKeys) = KeysOf(role);
        SignedMetadata.Parse(bytes).VerifyThreshold(role, keys, roleKeys);
        WriteMetadata(role, version, bytes);
        return version;
    }

    /// <summary>
    /// The latest version of a targets role, or <see langword="null"/> when it has none or no role delegates to it. Its
    /// signatures, and those of every role on the way to it from root, are checked first: the next version is built
    /// on it, and must never sign what someone wrote into the directory.
    /// </summary>
    /// <param name="role">The role.</param>
    /// <returns>Its metadata.</returns>
    /// <exception cref="TufException">It, or a role that delegates to it, is not signed by the keys it must be.</exception>
    public TargetsMetadata? Targets(string role) => Find(role)?.Metadata;

    /// <summary>
    /// Whether clients would trust <paramref name="role"/> for <paramref name="path"/>: top-level targets for every path,
    /// a delegated role for the paths its delegation names.
    /// </summary>
    /// <param name="role">The targets role.</param>
    /// <param name="path">The target path.</param>
    /// <returns>Whether the role may list it.</returns>
    public bool Trusts(string role, string path) =>
        role == RoleNames.Targets || (Find(role, delegatorOnly: true)?.Delegation?.Covers(path) ?? false);

    /// <summary>Stores an artifact where clients fetch it and returns its description (lengths and hashes).</summary>
    /// <param name="path">The target path.</param>
    /// <param name="content">The artifact.</param>
    /// <param name="custom">Application data for the targets entry.</param>
    /// <returns>The description, to list in a targets role.</returns>
    public TargetFile StoreArtifact(string path, byte[] content, JsonObject? custom = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        CheckTargetPath(path);
        var target = TargetFile.Describe(path, content, custom);
        var slash = path.LastIndexOf('/');
        foreach (var hash in target.Hashes.Values)
        {
            WriteFile(Path.Combine(TargetsDirectory, path[..(slash + 1)], $"{hash}.{path[(slash + 1)..]}"), content);
        }

        WriteFile(Path.Combine(TargetsDirectory, path), content);
        return target;
    }

    /// <summary>Refuses a target path that could not be stored safely: absolute, or with empty, <c>.</c> or <c>..</c> segments.</summary>
    /// <param name="path">The target path.</param>
    /// <exception cref="TufException">The path is refused (<see cref="TufFailure.Malformed"/>).</exception>
    public static void CheckTargetPath(string path)
    {
        if (!IsSafeTargetPath(path))
        {
            throw new TufException(TufFailure.Malformed, $"target path \"{path}\" must be relative, without empty, . or .. segments");
        }
    }

    /// <summary>Whether a path stays inside the directory it names a file of: relative, without empty, <c>.</c> or <c>..</c> segments.</summary>
    /// <param name="path">A target path or metadata file name.</param>
    /// <returns>Whether it is safe.</returns>
    public static bool IsSafeTargetPath(string path) =>
        !string.IsNullOrEmpty(path) && !path.StartsWith('/') && path.Split('/').All(segment => segment is not ("" or "." or ".."));

    /// <summary>Signs the next snapshot: the latest version, length and hashes of every targets role.</summary>
    /// <param name="signers">The snapshot keys.</param>
    /// <param name="expires">The expiry.</param>
    /// <returns>The version written.</returns>
    /// <exception cref="TufException">A targets role it would list does not verify, as a client checks it; nothing is written.</exception>
    public long SignSnapshot(IEnumerable<TufSigner> signers, DateTimeOffset expires)
    {
        VerifyTargetsRoles(NotSignedOver(RoleNames.Snapshot));
        var next = NextSnapshot(expires, targets: null);
        var bytes = SignedMetadata.Sign(next.ToJson(), signers);
        VerifyTopLevel(RoleNames.Snapshot, bytes);
        WriteMetadata(RoleNames.Snapshot, next.Version, bytes);
        return next.Version;
    }

    // The next snapshot over the latest version of every targets role, or over a top-level targets not yet written.
    private SnapshotMetadata NextSnapshot(DateTimeOffset expires, (long Version, byte[] Bytes)? targets)
    {
        var versions = LatestVersions();
        var meta = new Dictionary<string, MetaFile>(StringComparer.Ordinal);
        foreach (var role in TargetsRolesOf(versions))
        {
            meta[$"{role}.json"] = role == RoleNames.Targets && targets is { } pending
                ? MetaFile.Describe(pending.Version, pending.Bytes)
                : MetaFile.Describe(versions[role], Read(role, versions[role]));
        }

        return new SnapshotMetadata(versions.GetValueOrDefault(RoleNames.Snapshot) + 1, expires, meta);
    }

    /// <summary>Signs the next timestamp over the latest snapshot.</summary>
    /// <param name="signers">The timestamp keys.</param>
    /// <param name="expires">The expiry.</param>
    /// <returns>The version written.</returns>
    /// <exception cref="TufException">The snapshot, or a targets role it lists, does not verify, as a client checks it; nothing is written.</exception>
    public long SignTimestamp(IEnumerable<TufSigner> signers, DateTimeOffset expires)
    {
        VerifySnapshot(NotSignedOver(RoleNames.Timestamp));
        var next = NextTimestamp(expires, Latest(RoleNames.Snapshot));
        var bytes = SignedMetadata.Sign(next.ToJson(), signers);
        VerifyTopLevel(RoleNames.Timestamp, bytes);
        WriteFile(TimestampPath, bytes);
        return next.Version;
    }

    private TimestampMetadata NextTimestamp(DateTimeOffset expires, (long Version, byte[] Bytes) snapshot) =>
        new(TimestampVersion() + 1, expires, MetaFile.Describe(snapshot.Version, snapshot.Bytes));

    private string TimestampPath => Path.Combine(MetadataDirectory, RoleNames.FileName(RoleNames.Timestamp));

    /// <summary>The current timestamp, or <see langword="null"/> before the first.</summary>
    /// <returns>The timestamp metadata.</returns>
    public TimestampMetadata? Timestamp() =>
        File.Exists(TimestampPath) ? TimestampMetadata.FromJson(SignedMetadata.Parse(File.ReadAllBytes(TimestampPath)).Signed) : null;

    /// <summary>
    /// The latest version, expiry and keys of every role, each checked as a client would: the root chain, snapshot and
    /// timestamp against root, every targets role reached from <c>targets</c> against its delegator. A role with metadata
    /// that no role delegates to is left out.
    /// </summary>
    /// <returns>Root, targets, snapshot, timestamp, then delegated roles by name.</returns>
    /// <exception cref="TufException">A file does not verify.</exception>
    public IReadOnlyList<RoleState> States()
    {
        var root = Root;
        var states = new List<RoleState> { new(RoleNames.Root, root.Version, root.Expires, root.Role(RoleNames.Root)) };
        foreach (var role in TargetsRoles())
        {
            if (Find(role) is { Metadata: { } metadata } found)
            {
                states.Add(new RoleState(role, metadata.Version, metadata.Expires, found.RoleKeys));
            }
        }

        if (LatestVersion(RoleNames.Snapshot) is > 0 and var snapshotVersion)
        {
            var signed = ReadNamed(RoleNames.Snapshot, snapshotVersion);
            signed.VerifyThreshold($"snapshot version {snapshotVersion}", root.Keys, root.Role(RoleNames.Snapshot));
            states.Insert(2, new RoleState(RoleNames.Snapshot, snapshotVersion, SnapshotMetadata.FromJson(signed.Signed).Expires, root.Role(RoleNames.Snapshot)));
        }

        if (File.Exists(TimestampPath))
        {
            var bytes = File.ReadAllBytes(TimestampPath);
            VerifyTopLevel(RoleNames.Timestamp, RoleNames.Timestamp, bytes);
            var timestamp = TimestampMetadata.FromJson(SignedMetadata.Parse(bytes).Signed);
            states.Insert(3, new RoleState(RoleNames.Timestamp, timestamp.Version, timestamp.Expires, root.Role(RoleNames.Timestamp)));
        }

        return states;
    }

    /// <summary>
    /// Follows the repository as a client fetches it and checks each file with the client's own checks (specification
    /// 5.4 to 5.6), expiry aside (<see cref="States"/> gives it): <c>timestamp.json</c> against the latest root, the
    /// snapshot version it names, and every targets role at the version that snapshot lists, against root or its
    /// delegator. A rotation that stopped after writing the new root leaves the old timestamp naming files the new root
    /// no longer vouches for; <see cref="States"/>, which reads the latest version of each role, cannot see that.
    /// <code>
    ///   root chain; the latest version of every targets role      else throws: a new snapshot would not help
    ///   timestamp.json → N.snapshot.json → V.ROLE.json it lists   else the first file clients refuse, and why
    /// </code>
    /// Whatever this finds, a new snapshot and timestamp over the latest version of every role repair
    /// (<see cref="SignSnapshot"/> then <see cref="SignTimestamp"/>, with the keys root lists).
    /// </summary>
    /// <returns><see langword="null"/> when clients accept what the timestamp names; otherwise what they refuse.</returns>
    /// <exception cref="TufException">The root chain, or the latest version of a targets role, does not verify.</exception>
    public PublishedFault? FindPublishedFault()
    {
        var root = Root;
        var fault = WalkAsClient(root);
        if (fault is not null)
        {
            VerifyTargetsRoles("no snapshot can be signed over it");
        }

        return fault;
    }

    private PublishedFault? WalkAsClient(RootMetadata root)
    {
        // The reference time is the earliest there is: expiry is the status table's and the warnings' business.
        var trusted = TrustedMetadata.Start(Read(RoleNames.Root, root.Version), DateTimeOffset.MinValue);
        var timestampFile = Path.GetRelativePath(Directory, TimestampPath);
        if (Admit(root, timestampFile, RoleNames.Timestamp, () => File.ReadAllBytes(TimestampPath), bytes => trusted.UpdateTimestamp(bytes)) is { } timestampFault)
        {
            return timestampFault;
        }

        var snapshotVersion = trusted.Timestamp!.Role.Snapshot.Version;
        if (Admit(root, VersionedFile.RelativePath(RoleNames.Snapshot, snapshotVersion), RoleNames.Snapshot, () => Read(RoleNames.Snapshot, snapshotVersion), bytes => trusted.UpdateSnapshot(bytes, fromLocalStorage: false)) is { } snapshotFault)
        {
            return snapshotFault;
        }

        var listed = trusted.Snapshot!.Role.Meta;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var toVisit = new Stack<(string Role, string Delegator)>();
        toVisit.Push((RoleNames.Targets, RoleNames.Root));
        while (toVisit.TryPop(out var next))
        {
            if (!visited.Add(next.Role))
            {
                continue;
            }

            var version = listed.GetValueOrDefault($"{next.Role}.json")?.Version ?? 0;
            if (version == 0 && next.Role != RoleNames.Targets && LatestVersion(next.Role) == 0)
            {
                // Delegated, never signed: no snapshot can list it yet, and clients find nothing under its paths.
                continue;
            }

            // A role the snapshot does not list is refused by the client before it reads a byte.
            var file = VersionedFile.RelativePath(next.Role, version > 0 ? version : null);
            if (Admit(root, file, next.Role, () => version > 0 ? Read(next.Role, version) : [], bytes => trusted.UpdateDelegatedTargets(bytes, next.Role, next.Delegator)) is { } targetsFault)
            {
                return targetsFault;
            }

            foreach (var delegated in trusted.Targets[next.Role].Role.Delegations?.Roles ?? [])
            {
                toVisit.Push((delegated.Name, next.Role));
            }
        }

        return null;
    }

    // One step of the client's walk: the file read and admitted, or why a client would refuse it.
    private PublishedFault? Admit(RootMetadata root, string file, string role, Func<byte[]> read, Action<byte[]> admit)
    {
        byte[] bytes;
        try
        {
            bytes = read();
        }
        catch (FileNotFoundException)
        {
            return new PublishedFault(file, "it is missing");
        }

        try
        {
            admit(bytes);
            return null;
        }
        catch (TufException e)
        {
            return new PublishedFault(file, e.Failure == TufFailure.Unsigned && SignedByPreviousRoot(root, role, bytes)
                ? $"{e.Message}; it is signed by the {role} keys of root version {root.Version - 1}, which root version {root.Version} replaced " +
                  "(a rotation that replaced them stopped before it wrote the new timestamp)"
                : e.Message);
        }
    }

    // Whether a top-level role's file carries the signatures root N-1 asked of it: the mark of an interrupted rotation.
    private bool SignedByPreviousRoot(RootMetadata root, string role, byte[] bytes)
    {
        if (root.Version == 1 || !RoleNames.IsTopLevel(role))
        {
            return false;
        }

        var previous = RootMetadata.FromJson(SignedMetadata.Parse(Read(RoleNames.Root, root.Version - 1)).Signed);
        try
        {
            SignedMetadata.Parse(bytes).VerifyThreshold(role, previous.Keys, previous.Role(role));
            return true;
        }
        catch (TufException)
        {
            return false;
        }
    }

    /// <summary>The names of every targets role with metadata, top-level first.</summary>
    /// <returns>The role names.</returns>
    public IReadOnlyList<string> TargetsRoles() => TargetsRolesOf(LatestVersions());

    /// <summary>The highest version of <paramref name="role"/> written, or 0.</summary>
    /// <param name="role">The role.</param>
    /// <returns>The version.</returns>
    public long LatestVersion(string role) => LatestVersions().GetValueOrDefault(role);

    /// <summary>
    /// The highest version written of every role, from one listing of the metadata directory. Only files named as
    /// clients fetch them count (<see cref="StrayFiles"/>).
    /// </summary>
    /// <returns>Versions by role name.</returns>
    public IReadOnlyDictionary<string, long> LatestVersions()
    {
        var latest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var name in MetadataFileNames())
        {
            if (ParseVersioned(name) is { Canonical: true } file)
            {
                latest[file.Role] = Math.Max(file.Version, latest.GetValueOrDefault(file.Role));
            }
        }

        return latest;
    }

    /// <summary>
    /// Metadata files named like a version of a role but not as clients fetch one (<c>010.root.json</c>,
    /// <c>0.targets.json</c>): clients ask for <c>VERSION.ROLE.json</c> with the version as a plain number from 1
    /// (specification 5.3.3), so they never read these, and neither does this repository.
    /// </summary>
    /// <returns>The file names, in order.</returns>
    public IReadOnlyList<string> StrayFiles() =>
        [.. MetadataFileNames().Where(name => ParseVersioned(name) is { Canonical: false }).Order(StringComparer.Ordinal)];

    private IEnumerable<string> MetadataFileNames() =>
        System.IO.Directory.Exists(MetadataDirectory)
            ? System.IO.Directory.EnumerateFiles(MetadataDirectory, "*.json").Select(path => Path.GetFileName(path))
            : [];

    // VERSION.ROLE.json with VERSION all digits; canonical when it is the very name clients fetch that version by.
    private static (string Role, long Version, bool Canonical)? ParseVersioned(string fileName)
    {
        var name = Path.GetFileNameWithoutExtension(fileName);
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !long.TryParse(name.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return null;
        }

        var role = Uri.UnescapeDataString(name[(dot + 1)..]);
        return (role, version, version > 0 && RoleNames.FileName(role, version) == fileName);
    }

    private static List<string> TargetsRolesOf(IReadOnlyDictionary<string, long> versions) =>
        [RoleNames.Targets, .. versions.Keys.Where(r => !RoleNames.IsTopLevel(r)).Order(StringComparer.Ordinal)];

    // The keys a targets role must be signed with: root's for targets, else those of the role that delegates to it.
    private (IReadOnlyDictionary<string, TufKey> Keys, RoleKeys Role) KeysOf(string role)
    {
        if (role == RoleNames.Targets)
        {
            var root = Root;
            return (root.Keys, root.Role(RoleNames.Targets));
        }

        return Find(role, delegatorOnly: true) is { } found
            ? (found.Keys, found.RoleKeys)
            : throw new TufException(TufFailure.State, $"no role delegates to {role}; delegate to it first");
    }

    /// <summary>
    /// Walks the delegations from top-level targets, checking each role's latest version against the keys its delegator
    /// gives it, to <paramref name="role"/>: its metadata (null when <paramref name="delegatorOnly"/>) and its keys.
    /// </summary>
    private (TargetsMetadata? Metadata, IReadOnlyDictionary<string, TufKey> Keys, RoleKeys RoleKeys, DelegatedRole? Delegation)? Find(string role, bool delegatorOnly = false)
    {
        var root = Root;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var toVisit = new Stack<(string Name, IReadOnlyDictionary<string, TufKey> Keys, RoleKeys RoleKeys, DelegatedRole? Delegation)>();
        toVisit.Push((RoleNames.Targets, root.Keys, root.Role(RoleNames.Targets), null));
        while (toVisit.TryPop(out var next))
        {
            if (next.Name == role && delegatorOnly)
            {
                return (null, next.Keys, next.RoleKeys, next.Delegation);
            }

            var version = LatestVersion(next.Name);
            if (!visited.Add(next.Name) || version == 0)
            {
                continue;
            }

            var signed = ReadNamed(next.Name, version);
            signed.VerifyThreshold($"{next.Name} version {version}", next.Keys, next.RoleKeys);
            var metadata = TargetsMetadata.FromJson(signed.Signed);
            if (next.Name == role)
            {
                return (metadata, next.Keys, next.RoleKeys, next.Delegation);
            }

            foreach (var delegated in metadata.Delegations?.Roles ?? [])
            {
                toVisit.Push((delegated.Name, metadata.Delegations!.Keys, delegated.Keys, delegated));
            }
        }

        return null;
    }

    /// <summary>
    /// Checks, before a snapshot is signed, every file it will list as a client checks it: the root chain, and every
    /// targets role reached from top-level targets against its delegator's keys (as <see cref="States"/>). A signature
    /// over a file edited on disk would make every client refuse the repository, so the edit is refused here, naming
    /// the file and then <paramref name="consequence"/>.
    /// </summary>
    private void VerifyTargetsRoles(string consequence)
    {
        var root = Root;
        var versions = LatestVersions();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var toVisit = new Stack<(string Name, IReadOnlyDictionary<string, TufKey> Keys, RoleKeys RoleKeys)>();
        toVisit.Push((RoleNames.Targets, root.Keys, root.Role(RoleNames.Targets)));
        while (toVisit.TryPop(out var next))
        {
            var version = versions.GetValueOrDefault(next.Name);
            if (!visited.Add(next.Name) || version == 0)
            {
                continue;
            }

            var metadata = TargetsMetadata.FromJson(VerifyFile(consequence, next.Name, version, next.Keys, next.RoleKeys).Signed);
            foreach (var delegated in metadata.Delegations?.Roles ?? [])
            {
                toVisit.Push((delegated.Name, metadata.Delegations!.Keys, delegated.Keys));
            }
        }
    }

    /// <summary>
    /// Checks the latest snapshot, which a timestamp is about to vouch for; the roles it lists were checked when it
    /// was signed (<see cref="VerifyTargetsRoles"/>), so only its own signatures are read again.
    /// </summary>
    private void VerifySnapshot(string consequence)
    {
        var version = LatestVersion(RoleNames.Snapshot);
        if (version > 0)
        {
            var root = Root;
            VerifyFile(consequence, RoleNames.Snapshot, version, root.Keys, root.Role(RoleNames.Snapshot));
        }
    }

    private static string NotSignedOver(string signing) => $"{signing} is not signed over it and nothing was written";

    private SignedMetadata VerifyFile(string consequence, string role, long version, IReadOnlyDictionary<string, TufKey> keys, RoleKeys roleKeys)
    {
        var signed = ReadNamed(role, version);
        try
        {
            signed.VerifyThreshold($"{role} version {version}", keys, roleKeys);
            return signed;
        }
        catch (TufException e)
        {
            throw new TufException(e.Failure, $"{VersionedFile.RelativePath(role, version)} does not verify as clients check it: {e.Message}; {consequence}", e);
        }
    }

    // A wrong key file (the timestamp key given for snapshot) fails here, not on every client.
    private void VerifyTopLevel(string role, byte[] bytes) => VerifyTopLevel(role, role, bytes);

    private void VerifyTopLevel(string what, string role, byte[] bytes)
    {
        var root = Root;
        SignedMetadata.Parse(bytes).VerifyThreshold(what, root.Keys, root.Role(role));
    }

    private long TimestampVersion() => Timestamp()?.Version ?? 0;

    private (long Version, byte[] Bytes) Latest(string role)
    {
        var version = LatestVersion(role);
        return (version, Read(role, version));
    }

    private byte[] Read(string role, long version) => File.ReadAllBytes(VersionedPath(role, version));

    // The repository builds only on a file that holds what its name says, as clients read only such a one.
    private SignedMetadata ReadNamed(string role, long version) => VersionedFile.Parse(role, version, Read(role, version));

    private string VersionedPath(string role, long version) => Path.Combine(MetadataDirectory, RoleNames.FileName(role, version));

    private void WriteMetadata(string role, long version, byte[] bytes)
    {
        var versioned = VersionedPath(role, version);
        if (File.Exists(versioned))
        {
            throw new TufException(TufFailure.State, $"{role} version {version} exists already; a version is never rewritten");
        }

        WriteFile(versioned, bytes);
        WriteFile(Path.Combine(MetadataDirectory, RoleNames.FileName(role)), bytes);
    }

    // Repository files are public: readable by all, replaced atomically.
    private static void WriteFile(string path, byte[] bytes)
    {
        OwnerOnlyFile.WriteAtomically(path, bytes, overwrite: true);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
    }
}
