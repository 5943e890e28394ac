using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Content;
using Gatehouse.Content.Channels;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Hosting;
using Gatehouse.Trust;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;

namespace Gatehouse.Portal.Updates;

/// <summary>
/// The portal's TUF repository of releases and content (<c>DATA/updates/repository</c>, served
/// under <c>/tuf/</c>). Its roles:
/// <code>
///   root, targets        offline keys (DATA/updates/offline-keys, or kept elsewhere by the operator)
///     releases           agent/*/*         offline keys: agent builds, signed with gatehouse release
///     content-CHANNEL    content/CHANNEL/* online, one key per channel: content the portal loaded with the agent's own loader
///     rollouts           rollouts/*/*      online: what each tenant's devices should run, per channel
///   snapshot, timestamp                    online, re-signed before they expire
/// </code>
/// A repository created here for a first run keeps its offline keys in the data directory, and
/// says so in the log; production moves them off the machine. A channel without a role of its own
/// (one a newer build reads, or every channel of a repository with the single legacy
/// <c>content</c> role) gets one on open when the targets key is still in the data directory;
/// otherwise the log and the publish endpoint say what the operator must run.
/// </summary>
public sealed class UpdateRepository
{
    /// <summary>
    /// The single role that signed every content channel (<c>content/*/*</c>) in repositories made
    /// before each channel had a role of its own; <see cref="EnsureCreated"/> moves its versions out.
    /// </summary>
    public const string LegacyContentRole = "content";

    /// <summary>How the role of each content channel is named: <c>content-CHANNEL</c>.</summary>
    public const string ContentRolePrefix = "content-";

    /// <summary>The role of rollout descriptors.</summary>
    public const string RolloutsRole = "rollouts";

    /// <summary>The role of agent releases (offline keys).</summary>
    public const string ReleasesRole = "releases";

    private static readonly TimeSpan TimestampLifetime = TimeSpan.FromDays(1);
    private static readonly TimeSpan SnapshotLifetime = TimeSpan.FromDays(7);
    private static readonly TimeSpan OnlineTargetsLifetime = TimeSpan.FromDays(30);
    private static readonly TimeSpan OfflineLifetime = TimeSpan.FromDays(365);

    /// <summary>How long before a role signed offline expires the portal warns, once a day, as <c>gatehouse release</c> does.</summary>
    private static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(30);

    private readonly TimeProvider time;
    private readonly ILogger<UpdateRepository> logger;
    private readonly SemaphoreSlim writes = new(1, 1);
    private TufRepository? repository;
    private DateTimeOffset expiryWarnedAt = DateTimeOffset.MinValue;

    /// <summary>Creates the service; <see cref="EnsureCreated"/> opens or makes the repository.</summary>
    public UpdateRepository(PortalOptions options, TimeProvider time, ILogger<UpdateRepository> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory = Path.Combine(options.DataDirectory, "updates");
        this.time = time;
        this.logger = logger;
    }

    /// <summary>The updates directory.</summary>
    public string Directory { get; }

    /// <summary>The repository's metadata files.</summary>
    public string MetadataDirectory => Repository.MetadataDirectory;

    /// <summary>The repository's artifacts.</summary>
    public string TargetsDirectory => Repository.TargetsDirectory;

    private string OnlineKeys => Path.Combine(Directory, "online-keys");

    private string OfflineKeys => Path.Combine(Directory, "offline-keys");

    private TufRepository Repository => repository ?? throw new InvalidOperationException("the update repository is not open yet");

    /// <summary>
    /// Opens the repository, creating it (and its keys) on first start. An existing repository gets
    /// a role for each content channel that has none (see <see cref="AddContentRoles"/>).
    /// </summary>
    public void EnsureCreated()
    {
        var path = Path.Combine(Directory, "repository");
        if (File.Exists(Path.Combine(path, "metadata", "1.root.json")))
        {
            repository = TufRepository.Open(path);
            AddContentRoles();
            return;
        }

        var channels = ContentChannels.All.Select(c => c.Name).ToList();
        var signers = new Dictionary<string, TufSigner>();
        try
        {
            foreach (var (role, folder) in new[]
            {
                (RoleNames.Root, OfflineKeys), (RoleNames.Targets, OfflineKeys), (ReleasesRole, OfflineKeys),
                (RoleNames.Snapshot, OnlineKeys), (RoleNames.Timestamp, OnlineKeys), (RolloutsRole, OnlineKeys),
            }.Concat(channels.Select(c => (ContentRoleOf(c), OnlineKeys))))
            {
                signers[role] = TufSigner.GenerateEcdsa();
                WriteKey(Path.Combine(folder, role + ".pem"), signers[role]);
            }

            var now = time.GetUtcNow();
            var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
            var roles = new Dictionary<string, RoleKeys>(StringComparer.Ordinal);
            foreach (var role in new[] { RoleNames.Root, RoleNames.Targets, RoleNames.Snapshot, RoleNames.Timestamp })
            {
                keys[signers[role].KeyId] = signers[role].PublicKey;
                roles[role] = new RoleKeys([signers[role].KeyId], 1);
            }

            var created = TufRepository.Create(
                path,
                new RootMetadata(1, Whole(now + OfflineLifetime), keys, roles, consistentSnapshot: true),
                new Dictionary<string, IReadOnlyList<TufSigner>>
                {
                    [RoleNames.Root] = [signers[RoleNames.Root]],
                    [RoleNames.Targets] = [signers[RoleNames.Targets]],
                    [RoleNames.Snapshot] = [signers[RoleNames.Snapshot]],
                    [RoleNames.Timestamp] = [signers[RoleNames.Timestamp]],
                },
                role => Whole(now + (role == RoleNames.Targets ? OfflineLifetime : TimestampLifetime)));

            // targets delegates each kind of artifact, and each content channel, to a role of its own.
            var delegated = new Dictionary<string, TufKey>(StringComparer.Ordinal);
            var delegations = new List<DelegatedRole>();
            foreach (var (role, pattern) in new[] { (ReleasesRole, "agent/*/*") }.Concat(channels.Select(c => (ContentRoleOf(c), ContentPatternOf(c)))).Append((RolloutsRole, "rollouts/*/*")))
            {
                delegated[signers[role].KeyId] = signers[role].PublicKey;
                delegations.Add(new DelegatedRole(role, new RoleKeys([signers[role].KeyId], 1), Terminating: true, [pattern]));
            }

            created.SignTargets(RoleNames.Targets, new TargetsMetadata(0, Whole(now + OfflineLifetime), new Dictionary<string, TargetFile>(), new Delegations(delegated, delegations)), [signers[RoleNames.Targets]]);
            foreach (var role in delegations.Select(d => d.Name))
            {
                created.SignTargets(role, new TargetsMetadata(0, Whole(now + (role == ReleasesRole ? OfflineLifetime : OnlineTargetsLifetime)), new Dictionary<string, TargetFile>()), [signers[role]]);
            }

            created.SignSnapshot([signers[RoleNames.Snapshot]], Whole(now + SnapshotLifetime));
            created.SignTimestamp([signers[RoleNames.Timestamp]], Whole(now + TimestampLifetime));
            repository = created;
            UpdateLog.RepositoryCreated(logger, path, OfflineKeys);
        }
        finally
        {
            foreach (var signer in signers.Values)
            {
                signer.Dispose();
            }
        }
    }

    /// <summary>The first root, which agents are shipped with.</summary>
    /// <returns>The bytes of <c>1.root.json</c>.</returns>
    public byte[] FirstRoot() => File.ReadAllBytes(Path.Combine(MetadataDirectory, "1.root.json"));

    /// <summary>
    /// Publishes a content file: it is loaded with the agent's own loader first, and refused with
    /// the loader's reason if it does not load. The same bytes again are accepted as they are; other
    /// bytes under a published version are refused.
    /// </summary>
    /// <param name="channel">The channel the caller publishes to.</param>
    /// <param name="bytes">The content file.</param>
    /// <param name="ct">Cancels the wait for the repository.</param>
    /// <returns>The published version, and whether this call published it (false: the same bytes were published before).</returns>
    /// <exception cref="PortalException">
    /// The content is refused, the version exists with other bytes, or the channel has no role to sign
    /// it yet (a conflict whose message names the command that delegates one).
    /// </exception>
    public async Task<(ContentVersionDto Version, bool New)> PublishContentAsync(string channel, byte[] bytes, CancellationToken ct)
    {
        LoadedContent loaded;
        try
        {
            loaded = ContentChannels.Get(channel).Load(Gatehouse.Content.Packages.ContentPackage.Parse(bytes));
        }
        catch (ContentException e)
        {
            // The field is the place in the file when there is one; a file refused as a whole names none.
            throw new PortalException(PortalErrorKind.Invalid, $"The agent's loader refuses this content: {e.Message}", e.Field);
        }

        if (!IsSafeVersion(loaded.Version))
        {
            throw PortalException.Invalid("version", $"A content version uses letters, digits, '.', '-' and '_' only (at most 64); got '{loaded.Version}'.");
        }

        var path = ContentTarget(channel, loaded.Version);
        await writes.WaitAsync(ct);
        try
        {
            var roleName = ServingRoleOf(channel) ?? throw PortalException.Conflict(NoRoleMessage(channel));
            var role = Repository.Targets(roleName)!;
            var target = TargetFile.Describe(path, bytes, new JsonObject { ["channel"] = channel, ["version"] = loaded.Version, ["records"] = (long)loaded.Records });
            if (role.Targets.TryGetValue(path, out var existing))
            {
                return existing.Hashes["sha256"] == target.Hashes["sha256"]
                    ? (ToDto(existing), false)
                    : throw PortalException.Conflict($"Version {loaded.Version} of {channel} is published already with other content; publish a new version.", "version");
            }

            using var signer = OnlineSigner(roleName);
            var targets = new Dictionary<string, TargetFile>(role.Targets, StringComparer.Ordinal) { [path] = target };
            Repository.SignTargets(roleName, new TargetsMetadata(0, Whole(time.GetUtcNow() + OnlineTargetsLifetime), targets), [signer]);
            Repository.StoreArtifact(path, bytes, target.Custom);
            SignSnapshotAndTimestamp();
            return (ToDto(target), true);
        }
        finally
        {
            writes.Release();
        }
    }

    /// <summary>The published versions of a channel, or of every channel.</summary>
    /// <param name="channel">A channel, or <see langword="null"/> for all.</param>
    /// <returns>The versions, oldest first.</returns>
    public IReadOnlyList<ContentVersionDto> ContentVersions(string? channel)
    {
        var prefix = channel is null ? "content/" : $"content/{channel}/";
        var delegated = Repository.Targets(RoleNames.Targets)!.Delegations?.Roles ?? [];
        var versions = new List<ContentVersionDto>();
        foreach (var role in delegated.Where(r => IsContentRole(r.Name)))
        {
            // Only what clients find: a version the delegation search reaches through another role first is not served.
            foreach (var target in Repository.Targets(role.Name)?.Targets.Values ?? [])
            {
                if (target.Path.StartsWith(prefix, StringComparison.Ordinal) && delegated.FirstOrDefault(r => r.Covers(target.Path))?.Name == role.Name)
                {
                    versions.Add(ToDto(target));
                }
            }
        }

        return versions;
    }

    /// <summary>A published content version, or <see langword="null"/>.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="version">The version.</param>
    /// <returns>The version.</returns>
    public ContentVersionDto? FindContent(string channel, string version) =>
        ServingRoleOf(channel) is { } role && Repository.Targets(role)!.Targets.TryGetValue(ContentTarget(channel, version), out var target) ? ToDto(target) : null;

    /// <summary>Whether the <c>releases</c> role lists agent build <paramref name="version"/> (signed offline with <c>gatehouse release add</c>).</summary>
    /// <param name="version">The version.</param>
    /// <returns>Whether it is published.</returns>
    public bool HasRelease(string version) =>
        Repository.Targets(ReleasesRole)?.Targets.ContainsKey(AgentReleases.TargetPath(version)) == true;

    /// <summary>The target path of a version of a channel: an agent build, or a content file.</summary>
    /// <param name="channel">The channel (<c>agent</c> or a content channel).</param>
    /// <param name="version">The version.</param>
    /// <returns>The path.</returns>
    public static string TargetOf(string channel, string version) =>
        channel == AgentReleases.Channel ? AgentReleases.TargetPath(version) : ContentTarget(channel, version);

    /// <summary>Publishes what a tenant's devices should run on a channel.</summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="descriptor">The descriptor.</param>
    /// <param name="ct">Cancels the wait for the repository.</param>
    /// <returns>A task that completes once the new signed version is in place.</returns>
    public async Task PublishDescriptorAsync(Guid tenantId, RolloutDescriptor descriptor, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var path = RolloutDescriptor.TargetPath(tenantId, descriptor.Channel);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(descriptor, UpdatesJsonContext.Default.RolloutDescriptor);
        await writes.WaitAsync(ct);
        try
        {
            var role = Repository.Targets(RolloutsRole)!;
            var target = TargetFile.Describe(path, bytes);
            var targets = new Dictionary<string, TargetFile>(role.Targets, StringComparer.Ordinal) { [path] = target };
            using var signer = OnlineSigner(RolloutsRole);
            Repository.SignTargets(RolloutsRole, new TargetsMetadata(0, Whole(time.GetUtcNow() + OnlineTargetsLifetime), targets), [signer]);
            Repository.StoreArtifact(path, bytes);
            SignSnapshotAndTimestamp();
        }
        finally
        {
            writes.Release();
        }
    }

    /// <summary>Re-signs online roles that are past half their lifetime, so clients never see them expire.</summary>
    /// <param name="ct">Cancels the wait for the repository.</param>
    /// <returns>A task that completes once every online role is fresh.</returns>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await writes.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow();
            var resign = false;
            var online = (Repository.Targets(RoleNames.Targets)!.Delegations?.Roles ?? [])
                .Select(r => r.Name)
                .Where(r => IsContentRole(r) && Repository.LatestVersion(r) > 0 && File.Exists(OnlineKeyPath(r)))
                .Append(RolloutsRole)
                .ToList();
            foreach (var role in online)
            {
                var targets = Repository.Targets(role)!;
                if (targets.Expires - now < OnlineTargetsLifetime / 2)
                {
                    using var signer = OnlineSigner(role);
                    Repository.SignTargets(role, new TargetsMetadata(0, Whole(now + OnlineTargetsLifetime), targets.Targets, targets.Delegations), [signer]);
                    resign = true;
                }
            }

            // A role signed offline (an agent release) since the last snapshot is published with the next one.
            resign |= SnapshotIsBehind();
            var timestamp = Repository.Timestamp();
            if (resign || timestamp is null || timestamp.Expires - now < TimestampLifetime / 2)
            {
                SignSnapshotAndTimestamp();
            }

            WarnOfOfflineExpiry(now);
        }
        finally
        {
            writes.Release();
        }
    }

    /// <summary>
    /// Warns, at most once a day, of each role signed offline (root, targets, releases) that expires within
    /// <see cref="ExpiryWarning"/> or has expired: the portal cannot renew them, and once one has expired every agent
    /// refuses the repository (no updates, no content). The warning names the command that renews it.
    /// </summary>
    private void WarnOfOfflineExpiry(DateTimeOffset now)
    {
        if (now - expiryWarnedAt < TimeSpan.FromDays(1))
        {
            return;
        }

        var repositoryDirectory = Repository.Directory;
        var expiring = new List<(string Role, DateTimeOffset Expires, string Command)>
        {
            (RoleNames.Root, Repository.Root.Expires, $"gatehouse release root sign --repo {repositoryDirectory} --key ROOT-KEY.pem"),
            (RoleNames.Targets, Repository.Targets(RoleNames.Targets)!.Expires, $"gatehouse release renew --repo {repositoryDirectory} --key TARGETS-KEY.pem"),
        };
        if (Repository.Targets(ReleasesRole) is { } releases)
        {
            expiring.Add((ReleasesRole, releases.Expires, $"gatehouse release renew --repo {repositoryDirectory} --role {ReleasesRole} --key RELEASES-KEY.pem"));
        }

        foreach (var (role, expires, command) in expiring.Where(e => e.Expires - now < ExpiryWarning))
        {
            UpdateLog.OfflineRoleExpiring(logger, role, expires, expires <= now ? "expired" : "expires", command);
            expiryWarnedAt = now;
        }
    }

    /// <summary>The target path of a content version.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="version">The version.</param>
    /// <returns>The path.</returns>
    public static string ContentTarget(string channel, string version) => $"content/{channel}/{version}.json";

    /// <summary>The delegated role that signs the versions of a content channel, and nothing else.</summary>
    /// <param name="channel">The channel (<c>bypass</c>).</param>
    /// <returns>The role name (<c>content-bypass</c>).</returns>
    public static string ContentRoleOf(string channel) => ContentRolePrefix + channel;

    /// <summary>The path pattern the role of a content channel is trusted for.</summary>
    /// <param name="channel">The channel (<c>bypass</c>).</param>
    /// <returns>The pattern (<c>content/bypass/*</c>).</returns>
    public static string ContentPatternOf(string channel) => $"content/{channel}/*";

    private static bool IsContentRole(string role) => role == LegacyContentRole || role.StartsWith(ContentRolePrefix, StringComparison.Ordinal);

    // content/CHANNEL/FILE → CHANNEL
    private static string? ChannelOf(string targetPath) =>
        targetPath.Split('/') is ["content", var channel, _] ? channel : null;

    private string TargetsKeyPath => Path.Combine(OfflineKeys, RoleNames.Targets + ".pem");

    /// <summary>
    /// Gives each content channel a role of its own in a repository that was opened, not created:
    /// <code>
    ///   channels with no delegation of their own (this build's; those the legacy role holds)
    ///     │
    ///     ├─ targets key in offline-keys ──► online key per channel; targets N+1 delegates to each and
    ///     │                                  drops the legacy content role (a terminating content/*/*
    ///     │                                  listed first would hide every channel role from clients)
    ///     └─ no targets key ──► legacy role delegated: it keeps signing; warn how to move off it
    ///                           otherwise: warn with the delegate command; publishing answers 409
    ///   channel roles delegated but never signed ──► first version, holding the legacy role's
    ///                                                versions of that channel
    ///   anything signed ──► snapshot, timestamp
    /// </code>
    /// Every step is safe to repeat: a start interrupted halfway completes on the next.
    /// </summary>
    private void AddContentRoles()
    {
        var targets = Repository.Targets(RoleNames.Targets)!;
        var delegated = targets.Delegations?.Roles ?? [];
        var hasLegacy = delegated.Any(r => r.Name == LegacyContentRole);

        // The legacy role's metadata stays on disk once its delegation is dropped; its versions are moved from there.
        var legacyTargets = Repository.Targets(LegacyContentRole)?.Targets ?? new Dictionary<string, TargetFile>();
        var missing = ContentChannels.All.Select(c => c.Name)
            .Concat(hasLegacy ? legacyTargets.Keys.Select(ChannelOf).OfType<string>() : [])
            .Distinct(StringComparer.Ordinal)
            .Where(c => !delegated.Any(r => r.Name == ContentRoleOf(c)))
            .ToList();

        var delegatedNow = false;
        if (missing.Count > 0 || hasLegacy)
        {
            using var targetsSigner = OfflineTargetsSigner();
            if (targetsSigner is not null)
            {
                Delegate(targets, missing, targetsSigner);
                delegatedNow = hasLegacy;
            }
            else if (hasLegacy)
            {
                UpdateLog.LegacyContentRoleKept(logger, TargetsKeyPath);
            }
            else
            {
                foreach (var channel in missing)
                {
                    // The key the operator's delegate command names.
                    OnlineKeyOf(ContentRoleOf(channel)).Dispose();
                    UpdateLog.ContentRoleMissing(logger, channel, TargetsKeyPath, DelegateCommand(channel));
                }
            }
        }

        if (SignFirstContentVersions(legacyTargets, delegatedNow))
        {
            SignSnapshotAndTimestamp();
        }
    }

    // Signs targets N+1: a delegation for each missing channel, the legacy content role and any key only it used left out.
    private void Delegate(TargetsMetadata targets, List<string> missing, TufSigner targetsSigner)
    {
        var keys = new Dictionary<string, TufKey>(targets.Delegations?.Keys ?? new Dictionary<string, TufKey>(), StringComparer.Ordinal);
        var roles = (targets.Delegations?.Roles ?? []).Where(r => r.Name != LegacyContentRole).ToList();
        foreach (var channel in missing)
        {
            using var key = OnlineKeyOf(ContentRoleOf(channel));
            keys[key.KeyId] = key.PublicKey;
            roles.Add(new DelegatedRole(ContentRoleOf(channel), new RoleKeys([key.KeyId], 1), Terminating: true, [ContentPatternOf(channel)]));
        }

        var used = roles.SelectMany(r => r.Keys.KeyIds).ToHashSet(StringComparer.Ordinal);
        var trusted = keys.Where(k => used.Contains(k.Key)).ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal);
        Repository.SignTargets(RoleNames.Targets, new TargetsMetadata(0, Whole(time.GetUtcNow() + OfflineLifetime), targets.Targets, new Delegations(trusted, roles)), [targetsSigner]);
    }

    // Signs each delegated channel role that has no metadata yet (or, right after the legacy role was
    // dropped, one that does), with the legacy role's versions of its channel. Returns whether it signed any.
    private bool SignFirstContentVersions(IReadOnlyDictionary<string, TargetFile> legacyTargets, bool legacyDropped)
    {
        var signed = false;
        foreach (var role in Repository.Targets(RoleNames.Targets)!.Delegations?.Roles ?? [])
        {
            if (!role.Name.StartsWith(ContentRolePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var current = Repository.Targets(role.Name);
            var channel = role.Name[ContentRolePrefix.Length..];
            var moved = legacyTargets.Values.Where(t => ChannelOf(t.Path) == channel).ToList();
            if (current is not null && (!legacyDropped || moved.All(t => current.Targets.TryGetValue(t.Path, out var there) && there.Hashes["sha256"] == t.Hashes["sha256"])))
            {
                continue;
            }

            var targets = new Dictionary<string, TargetFile>(current?.Targets ?? new Dictionary<string, TargetFile>(), StringComparer.Ordinal);
            foreach (var target in moved)
            {
                targets[target.Path] = target;
            }

            using var signer = OnlineSigner(role.Name);
            Repository.SignTargets(role.Name, new TargetsMetadata(0, Whole(time.GetUtcNow() + OnlineTargetsLifetime), targets), [signer]);
            UpdateLog.ContentRoleAdded(logger, channel, role.Name, moved.Count);
            signed = true;
        }

        return signed;
    }

    // The role clients trust for a channel's versions, if the portal can sign it: the first of targets'
    // delegations that covers the channel's paths (the search is pre-order, and every role here terminates).
    private string? ServingRoleOf(string channel)
    {
        var first = Repository.Targets(RoleNames.Targets)!.Delegations?.Roles.FirstOrDefault(r => r.Covers(ContentTarget(channel, "1")));
        return first is not null && (first.Name == ContentRoleOf(channel) || first.Name == LegacyContentRole) && Repository.LatestVersion(first.Name) > 0
            ? first.Name
            : null;
    }

    private string DelegateCommand(string channel) =>
        $"gatehouse release delegate {ContentRoleOf(channel)} --repo {Repository.Directory} --path '{ContentPatternOf(channel)}' --terminating " +
        $"--role-key {OnlineKeyPath(ContentRoleOf(channel))} --key TARGETS-KEY.pem";

    private string NoRoleMessage(string channel) =>
        $"Content channel {channel} has no role in the update repository to sign it, and delegating one needs the offline targets key. " +
        $"Whoever holds that key runs: {DelegateCommand(channel)} (TARGETS-KEY.pem being the targets key); then publish again.";

    // The offline targets key, while it is still in the data directory and root trusts it alone to sign targets.
    private TufSigner? OfflineTargetsSigner()
    {
        if (!File.Exists(TargetsKeyPath))
        {
            return null;
        }

        TufSigner signer;
        try
        {
            signer = TufSigner.FromPemFile(TargetsKeyPath);
        }
        catch (Gatehouse.Tuf.TufException)
        {
            return null;
        }

        var trusted = Repository.Root.Role(RoleNames.Targets);
        if (trusted.Threshold == 1 && trusted.KeyIds.Contains(signer.KeyId, StringComparer.Ordinal))
        {
            return signer;
        }

        signer.Dispose();
        return null;
    }

    private static bool IsSafeVersion(string version) =>
        version.Length is > 0 and <= 64 && version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') && version is not ("." or "..");

    private bool SnapshotIsBehind()
    {
        var snapshot = SnapshotMetadata.FromJson(SignedMetadata.Parse(File.ReadAllBytes(Path.Combine(MetadataDirectory, "snapshot.json"))).Signed);
        foreach (var (role, version) in Repository.LatestVersions())
        {
            if (!RoleNames.IsTopLevel(role) || role == RoleNames.Targets)
            {
                if (!snapshot.Meta.TryGetValue($"{role}.json", out var listed) || listed.Version != version)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void SignSnapshotAndTimestamp()
    {
        var now = time.GetUtcNow();
        using var snapshot = OnlineSigner(RoleNames.Snapshot);
        using var timestamp = OnlineSigner(RoleNames.Timestamp);
        Repository.SignSnapshot([snapshot], Whole(now + SnapshotLifetime));
        Repository.SignTimestamp([timestamp], Whole(now + TimestampLifetime));
    }

    private TufSigner OnlineSigner(string role) => TufSigner.FromPemFile(OnlineKeyPath(role));

    private string OnlineKeyPath(string role) => Path.Combine(OnlineKeys, role + ".pem");

    // A role's online key, made (mode 0600) if there is none yet.
    private TufSigner OnlineKeyOf(string role)
    {
        if (File.Exists(OnlineKeyPath(role)))
        {
            return OnlineSigner(role);
        }

        var signer = TufSigner.GenerateEcdsa();
        WriteKey(OnlineKeyPath(role), signer);
        return signer;
    }

    private static ContentVersionDto ToDto(TargetFile target) => new(
        target.Custom?["channel"]?.GetValue<string>() ?? "",
        target.Custom?["version"]?.GetValue<string>() ?? "",
        target.Path,
        target.Length,
        target.Hashes["sha256"],
        (int)(target.Custom?["records"] is System.Text.Json.Nodes.JsonValue records && records.TryGetValue<long>(out var count) ? count : 0));

    // Never over an existing key: a key that signed metadata clients trust must not be lost.
    private static void WriteKey(string path, TufSigner signer) =>
        OwnerOnlyFile.WriteAtomically(path, signer.ExportPrivateKeyPem(), overwrite: false);

    private static DateTimeOffset Whole(DateTimeOffset at) => new(at.Ticks - (at.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}

/// <summary>Log messages of the update repository and rollouts (event ids 1600–1619).</summary>
internal static partial class UpdateLog
{
    [LoggerMessage(1600, LogLevel.Warning, "Created the update repository in {Path}. Its offline keys (root, targets, releases) are in {OfflineKeys}: move them off this machine for production (docs/updates.md).")]
    public static partial void RepositoryCreated(ILogger logger, string path, string offlineKeys);

    [LoggerMessage(1601, LogLevel.Information, "Rollout {RolloutId} of {Channel} {Version} (tenant {TenantId}): {Decision} at stage {Stage}: {Reason}")]
    public static partial void RolloutDecided(ILogger logger, Guid rolloutId, string channel, string version, Guid tenantId, string decision, string stage, string reason);

    [LoggerMessage(1602, LogLevel.Error, "Evaluating rollouts failed; trying again at the next interval.")]
    public static partial void EvaluationFailed(ILogger logger, Exception exception);

    [LoggerMessage(1603, LogLevel.Warning, "Content channel {Channel} has no role in the update repository, and the portal holds no offline targets key to delegate one ({TargetsKey}): publishing to {Channel} is refused until whoever holds that key runs: {Command}")]
    public static partial void ContentRoleMissing(ILogger logger, string channel, string targetsKey, string command);

    [LoggerMessage(1604, LogLevel.Warning, "The update repository signs every content channel with the single content role of an older Gatehouse; a role per channel needs the offline targets key: copy it to {TargetsKey}, restart the portal, then move the key off again. Content is published through the content role until then.")]
    public static partial void LegacyContentRoleKept(ILogger logger, string targetsKey);

    [LoggerMessage(1606, LogLevel.Warning, "The update repository's {Role} role, signed offline, {Expired} at {Expires:u}: once it has expired every agent refuses the repository (no updates, no content). Renew it with the offline key: {Command}")]
    public static partial void OfflineRoleExpiring(ILogger logger, string role, DateTimeOffset expires, string expired, string command);

    [LoggerMessage(1605, LogLevel.Information, "Content channel {Channel} is signed by a role of its own, {Role}; {Moved} published versions moved into it from the content role.")]
    public static partial void ContentRoleAdded(ILogger logger, string channel, string role, int moved);
}
