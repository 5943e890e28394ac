using System.Globalization;
using System.Text.Json.Nodes;
using Gatehouse.Trust;
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
    private TufRepository(string directory)
    {
        Directory = directory;
    }

    /// <summary>The repository's directory.</summary>
    public string Directory { get; }

    /// <summary>Where metadata files are.</summary>
    public string MetadataDirectory => Path.Combine(Directory, "metadata");

    /// <summary>Where artifacts are.</summary>
    public string TargetsDirectory => Path.Combine(Directory, "targets");

    /// <summary>
    /// The latest root, its chain checked from version 1: each version signed by its own keys and its predecessor's,
    /// as a client checks it, so that nothing is signed on top of a root someone wrote into the directory.
    /// </summary>
    /// <exception cref="TufException">A root in the chain is not signed as it must be.</exception>
    public RootMetadata Root
    {
        get
        {
            RootMetadata? previous = null;
            var latest = LatestVersion(RoleNames.Root);
            for (var version = 1L; version <= latest; version++)
            {
                var signed = SignedMetadata.Parse(Read(RoleNames.Root, version));
                var root = RootMetadata.FromJson(signed.Signed);
                signed.VerifyThreshold($"root version {version} (by its own keys)", root.Keys, root.Role(RoleNames.Root));
                if (previous is not null)
                {
                    signed.VerifyThreshold($"root version {version} (by version {version - 1}'s keys)", previous.Keys, previous.Role(RoleNames.Root));
                }

                previous = root;
            }

            return previous ?? throw new TufException(TufFailure.NotFound, $"{Directory} holds no root");
        }
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
    public long SignSnapshot(IEnumerable<TufSigner> signers, DateTimeOffset expires)
    {
        var versions = LatestVersions();
        var meta = new Dictionary<string, MetaFile>(StringComparer.Ordinal);
        foreach (var role in TargetsRolesOf(versions))
        {
            meta[$"{role}.json"] = MetaFile.Describe(versions[role], Read(role, versions[role]));
        }

        var next = versions.GetValueOrDefault(RoleNames.Snapshot) + 1;
        var bytes = SignedMetadata.Sign(new SnapshotMetadata(next, expires, meta).ToJson(), signers);
        VerifyTopLevel(RoleNames.Snapshot, bytes);
        WriteMetadata(RoleNames.Snapshot, next, bytes);
        return next;
    }

    /// <summary>Signs the next timestamp over the latest snapshot.</summary>
    /// <param name="signers">The timestamp keys.</param>
    /// <param name="expires">The expiry.</param>
    /// <returns>The version written.</returns>
    public long SignTimestamp(IEnumerable<TufSigner> signers, DateTimeOffset expires)
    {
        var (snapshotVersion, snapshot) = Latest(RoleNames.Snapshot);
        var next = TimestampVersion() + 1;
        var bytes = SignedMetadata.Sign(new TimestampMetadata(next, expires, MetaFile.Describe(snapshotVersion, snapshot)).ToJson(), signers);
        VerifyTopLevel(RoleNames.Timestamp, bytes);
        WriteFile(Path.Combine(MetadataDirectory, "timestamp.json"), bytes);
        return next;
    }

    /// <summary>The current timestamp, or <see langword="null"/> before the first.</summary>
    /// <returns>The timestamp metadata.</returns>
    public TimestampMetadata? Timestamp()
    {
        var path = Path.Combine(MetadataDirectory, "timestamp.json");
        return File.Exists(path) ? TimestampMetadata.FromJson(SignedMetadata.Parse(File.ReadAllBytes(path)).Signed) : null;
    }

    /// <summary>The names of every targets role with metadata, top-level first.</summary>
    /// <returns>The role names.</returns>
    public IReadOnlyList<string> TargetsRoles() => TargetsRolesOf(LatestVersions());

    /// <summary>The highest version of <paramref name="role"/> written, or 0.</summary>
    /// <param name="role">The role.</param>
    /// <returns>The version.</returns>
    public long LatestVersion(string role) => LatestVersions().GetValueOrDefault(role);

    /// <summary>The highest version written of every role, from one listing of the metadata directory.</summary>
    /// <returns>Versions by role name.</returns>
    public IReadOnlyDictionary<string, long> LatestVersions()
    {
        var latest = new Dictionary<string, long>(StringComparer.Ordinal);
        if (!System.IO.Directory.Exists(MetadataDirectory))
        {
            return latest;
        }

        foreach (var path in System.IO.Directory.EnumerateFiles(MetadataDirectory, "*.json"))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && long.TryParse(name.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                var role = Uri.UnescapeDataString(name[(dot + 1)..]);
                latest[role] = Math.Max(version, latest.GetValueOrDefault(role));
            }
        }

        return latest;
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

            var signed = SignedMetadata.Parse(Read(next.Name, version));
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

    // A wrong key file (the timestamp key given for snapshot) fails here, not on every client.
    private void VerifyTopLevel(string role, byte[] bytes)
    {
        var root = Root;
        SignedMetadata.Parse(bytes).VerifyThreshold(role, root.Keys, root.Role(role));
    }

    private long TimestampVersion() => Timestamp()?.Version ?? 0;

    private (long Version, byte[] Bytes) Latest(string role)
    {
        var version = LatestVersion(role);
        return (version, Read(role, version));
    }

    private byte[] Read(string role, long version) =>
        File.ReadAllBytes(Path.Combine(MetadataDirectory, $"{version}.{Uri.EscapeDataString(role)}.json"));

    private void WriteMetadata(string role, long version, byte[] bytes)
    {
        var escaped = Uri.EscapeDataString(role);
        var versioned = Path.Combine(MetadataDirectory, $"{version}.{escaped}.json");
        if (File.Exists(versioned))
        {
            throw new TufException(TufFailure.State, $"{role} version {version} exists already; a version is never rewritten");
        }

        WriteFile(versioned, bytes);
        WriteFile(Path.Combine(MetadataDirectory, $"{escaped}.json"), bytes);
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
