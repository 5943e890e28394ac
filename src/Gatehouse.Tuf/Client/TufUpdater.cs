using Gatehouse.Trust;
using Gatehouse.Tuf.Metadata;

namespace Gatehouse.Tuf.Client;

/// <summary>
/// The TUF client workflow (specification 1.0, section 5) over a metadata directory and a
/// remote repository. Nothing is stored or returned before it verifies.
/// </summary>
/// <remarks>
/// <code>
///   RefreshAsync
///     5.2  root.json (local)            trusted start, signed by its own keys
///     5.3  N+1.root.json, N+2, ...      each signed by the old and the new root keys, stored
///          final root expired?          -> fail (freeze)
///     5.4  timestamp.json               root's timestamp keys, no rollback, not expired, stored
///     5.5  [V.]snapshot.json            length+hashes from timestamp, no rollback, stored
///     5.6  [V.]targets.json             length+hashes from snapshot, version = snapshot's, stored
///   GetTargetInfoAsync(path)
///     5.7  pre-order search of delegations, at most MaxDelegations roles
///   DownloadTargetAsync
///     5.7.3 [DIR/HASH.]NAME             length and every hash, then written atomically
/// </code>
/// Locally stored timestamp, snapshot and targets are read first: they protect against rollback,
/// and a stored file that is still current saves a download.
/// </remarks>
public sealed class TufUpdater
{
    private readonly UpdaterOptions options;
    private readonly IRemoteFiles remote;
    private readonly TimeProvider time;
    private readonly MetadataStore store;
    private TrustedMetadata? trusted;

    /// <summary>Creates the client.</summary>
    /// <param name="options">Where state lives and what to fetch.</param>
    /// <param name="remote">How files are fetched.</param>
    /// <param name="time">The clock expiry is checked against.</param>
    public TufUpdater(UpdaterOptions options, IRemoteFiles remote, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(remote);
        this.options = options;
        this.remote = remote;
        this.time = time ?? TimeProvider.System;
        store = new MetadataStore(options.MetadataDirectory);
    }

    /// <summary>The metadata trusted by the last refresh, or <see langword="null"/> before one succeeded.</summary>
    public TrustedMetadata? Trusted => trusted;

    /// <summary>Stores the first trusted root; no check is made, as the caller vouches for it.</summary>
    /// <param name="metadataDirectory">The metadata directory.</param>
    /// <param name="rootBytes">The root file.</param>
    public static void Initialize(string metadataDirectory, byte[] rootBytes) =>
        new MetadataStore(metadataDirectory).Write(RoleNames.Root, rootBytes);

    /// <summary>Brings root, timestamp, snapshot and top-level targets up to date (5.1–5.6).</summary>
    /// <param name="ct">Cancels the refresh.</param>
    /// <returns>A task that completes when every top-level role is trusted and current.</returns>
    /// <exception cref="TufException">Any step failed; what verified before it stays stored.</exception>
    public async Task RefreshAsync(CancellationToken ct = default)
    {
        trusted = null;
        var rootBytes = store.Read(RoleNames.Root) ?? throw new TufException(TufFailure.State, $"no trusted root in {store.Directory}; initialize it first");
        var set = TrustedMetadata.Start(rootBytes, time.GetUtcNow());
        await LoadRootAsync(set, ct).ConfigureAwait(false);
        await LoadTimestampAsync(set, ct).ConfigureAwait(false);
        await LoadSnapshotAsync(set, ct).ConfigureAwait(false);
        await LoadTargetsAsync(set, RoleNames.Targets, RoleNames.Root, ct).ConfigureAwait(false);
        trusted = set;
    }

    /// <summary>Finds <paramref name="targetPath"/> in the trusted targets, following delegations (5.7); refreshes first if needed.</summary>
    /// <param name="targetPath">The target path.</param>
    /// <param name="ct">Cancels the search.</param>
    /// <returns>The artifact's description, or <see langword="null"/> when no trusted role lists it.</returns>
    public async Task<TargetFile?> GetTargetInfoAsync(string targetPath, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(targetPath);
        if (trusted is null)
        {
            await RefreshAsync(ct).ConfigureAwait(false);
        }

        var set = trusted!;
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var toVisit = new Stack<(string Role, string Delegator)>();
        toVisit.Push((RoleNames.Targets, RoleNames.Root));
        while (toVisit.Count > 0 && visited.Count < options.MaxDelegations)
        {
            var (role, delegator) = toVisit.Pop();
            if (!visited.Add(role))
            {
                continue;
            }

            var targets = await LoadTargetsAsync(set, role, delegator, ct).ConfigureAwait(false);
            if (targets.Targets.TryGetValue(targetPath, out var found))
            {
                return found;
            }

            if (targets.Delegations is null)
            {
                continue;
            }

            // Children go on the stack in reverse, so the first listed is searched first;
            // a terminating delegation that matches cuts off everything not yet searched.
            var children = new List<(string, string)>();
            foreach (var child in targets.Delegations.Roles)
            {
                if (!child.Covers(targetPath))
                {
                    continue;
                }

                children.Add((child.Name, role));
                if (child.Terminating)
                {
                    toVisit.Clear();
                    break;
                }
            }

            for (var i = children.Count - 1; i >= 0; i--)
            {
                toVisit.Push(children[i]);
            }
        }

        return null;
    }

    /// <summary>Where <paramref name="target"/> is stored in the target directory.</summary>
    /// <param name="target">The artifact.</param>
    /// <returns>The path: the target path escaped into one file name.</returns>
    public string LocalPathOf(TargetFile target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var directory = options.TargetDirectory ?? throw new TufException(TufFailure.State, "no target directory configured");
        return Path.Combine(directory, Uri.EscapeDataString(target.Path));
    }

    /// <summary>The stored copy of <paramref name="target"/>, if one exists with the right length and hashes.</summary>
    /// <param name="target">The artifact.</param>
    /// <returns>Its path, or <see langword="null"/>.</returns>
    public string? FindCachedTarget(TargetFile target)
    {
        var path = LocalPathOf(target);
        try
        {
            target.Verify(File.ReadAllBytes(path));
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TufException)
        {
            return null;
        }
    }

    /// <summary>Downloads <paramref name="target"/>, checks its length and hashes, and stores it atomically.</summary>
    /// <param name="target">The artifact, as <see cref="GetTargetInfoAsync"/> found it.</param>
    /// <param name="ct">Cancels the download.</param>
    /// <returns>The stored file's path.</returns>
    public async Task<string> DownloadTargetAsync(TargetFile target, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var set = trusted ?? throw new TufException(TufFailure.State, "refresh before downloading");
        var baseUrl = options.TargetBaseUrl ?? throw new TufException(TufFailure.State, "no target base URL configured");
        var name = target.Path;
        if (set.Root.Role.ConsistentSnapshot && options.PrefixTargetsWithHash)
        {
            var slash = name.LastIndexOf('/');
            name = $"{name[..(slash + 1)]}{target.Hashes.Values.First()}.{name[(slash + 1)..]}";
        }

        var bytes = await remote.GetAsync(Under(baseUrl, EscapePath(name)), target.Length, ct).ConfigureAwait(false);
        target.Verify(bytes);
        var path = LocalPathOf(target);
        OwnerOnlyFile.WriteAtomically(path, bytes, overwrite: true);
        return path;
    }

    private async Task LoadRootAsync(TrustedMetadata set, CancellationToken ct)
    {
        var original = set.Root.Role;
        var first = original.Version + 1;
        for (var version = first; version < first + options.MaxRootRotations; version++)
        {
            byte[] bytes;
            try
            {
                bytes = await remote.GetAsync(MetadataUrl(RoleNames.Root, version), options.RootMaxLength, ct).ConfigureAwait(false);
            }
            catch (TufException e) when (e.Failure is TufFailure.NotFound)
            {
                break;
            }

            set.UpdateRoot(bytes);
            store.Write(RoleNames.Root, bytes);
        }

        // 5.3.11: after a rotation of their keys, stored timestamp and snapshot cannot be checked
        // any more, and must not block the new ones (fast-forward attack recovery).
        var root = set.Root.Role;
        if (root.Version != original.Version)
        {
            if (root.RotatedKeysOf(original, RoleNames.Timestamp))
            {
                store.Delete(RoleNames.Timestamp);
            }

            if (root.RotatedKeysOf(original, RoleNames.Snapshot))
            {
                store.Delete(RoleNames.Snapshot);
            }
        }
    }

    private async Task LoadTimestampAsync(TrustedMetadata set, CancellationToken ct)
    {
        if (store.Read(RoleNames.Timestamp) is { } local)
        {
            TryLocal(() => set.UpdateTimestamp(local));
        }

        var bytes = await remote.GetAsync(MetadataUrl(RoleNames.Timestamp, version: null), options.TimestampMaxLength, ct).ConfigureAwait(false);
        if (set.UpdateTimestamp(bytes))
        {
            store.Write(RoleNames.Timestamp, bytes);
        }
    }

    private async Task LoadSnapshotAsync(TrustedMetadata set, CancellationToken ct)
    {
        if (store.Read(RoleNames.Snapshot) is { } local && TryLocal(() => set.UpdateSnapshot(local, fromLocalStorage: true)))
        {
            return;
        }

        var meta = set.Timestamp!.Role.Snapshot;
        var version = set.Root.Role.ConsistentSnapshot ? meta.Version : (long?)null;
        var bytes = await remote.GetAsync(MetadataUrl(RoleNames.Snapshot, version), meta.Length ?? options.SnapshotMaxLength, ct).ConfigureAwait(false);
        set.UpdateSnapshot(bytes, fromLocalStorage: false);
        store.Write(RoleNames.Snapshot, bytes);
    }

    private async Task<TargetsMetadata> LoadTargetsAsync(TrustedMetadata set, string role, string delegator, CancellationToken ct)
    {
        if (set.Targets.TryGetValue(role, out var known))
        {
            return known.Role;
        }

        if (store.Read(role) is { } local && TryLocal(() => set.UpdateDelegatedTargets(local, role, delegator)))
        {
            return set.Targets[role].Role;
        }

        var meta = set.Snapshot!.Role.Meta.GetValueOrDefault($"{role}.json")
            ?? throw new TufException(TufFailure.Malformed, $"snapshot does not list {role}.json");
        var version = set.Root.Role.ConsistentSnapshot ? meta.Version : (long?)null;
        var bytes = await remote.GetAsync(MetadataUrl(role, version), meta.Length ?? options.TargetsMaxLength, ct).ConfigureAwait(false);
        set.UpdateDelegatedTargets(bytes, role, delegator);
        store.Write(role, bytes);
        return set.Targets[role].Role;
    }

    // A stored file that fails is not an error: it is simply not current, and the remote one decides.
    private static bool TryLocal(Action admit)
    {
        try
        {
            admit();
            return true;
        }
        catch (TufException)
        {
            return false;
        }
    }

    private Uri MetadataUrl(string role, long? version) =>
        Under(options.MetadataBaseUrl, RoleNames.FileName(role, version));

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private static Uri Under(Uri baseUrl, string relative)
    {
        var text = baseUrl.AbsoluteUri;
        return new Uri(text.EndsWith('/') ? text + relative : text + "/" + relative);
    }
}
