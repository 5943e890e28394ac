using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Content;
using Gatehouse.Content.Channels;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Hosting;
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
///   root, targets      offline keys (DATA/updates/offline-keys, or kept elsewhere by the operator)
///     releases         agent/*/*      offline keys: agent builds, signed with gatehouse release
///     content          content/*/*    online: content the portal loaded with the agent's own loader
///     rollouts         rollouts/*/*   online: what each tenant's devices should run, per channel
///   snapshot, timestamp                online, re-signed before they expire
/// </code>
/// A repository created here for a first run keeps its offline keys in the data directory, and
/// says so in the log; production moves them off the machine.
/// </summary>
public sealed class UpdateRepository
{
    /// <summary>The role of content the portal publishes.</summary>
    public const string ContentRole = "content";

    /// <summary>The role of rollout descriptors.</summary>
    public const string RolloutsRole = "rollouts";

    /// <summary>The role of agent releases (offline keys).</summary>
    public const string ReleasesRole = "releases";

    private static readonly TimeSpan TimestampLifetime = TimeSpan.FromDays(1);
    private static readonly TimeSpan SnapshotLifetime = TimeSpan.FromDays(7);
    private static readonly TimeSpan OnlineTargetsLifetime = TimeSpan.FromDays(30);
    private static readonly TimeSpan OfflineLifetime = TimeSpan.FromDays(365);

    private readonly TimeProvider time;
    private readonly ILogger<UpdateRepository> logger;
    private readonly SemaphoreSlim writes = new(1, 1);
    private TufRepository? repository;

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

    /// <summary>Opens the repository, creating it (and its keys) on first start.</summary>
    public void EnsureCreated()
    {
        var path = Path.Combine(Directory, "repository");
        if (File.Exists(Path.Combine(path, "metadata", "1.root.json")))
        {
            repository = TufRepository.Open(path);
            return;
        }

        var signers = new Dictionary<string, TufSigner>();
        try
        {
            foreach (var (role, folder) in new[]
            {
                (RoleNames.Root, OfflineKeys), (RoleNames.Targets, OfflineKeys), (ReleasesRole, OfflineKeys),
                (RoleNames.Snapshot, OnlineKeys), (RoleNames.Timestamp, OnlineKeys), (ContentRole, OnlineKeys), (RolloutsRole, OnlineKeys),
            })
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

            // targets delegates each kind of artifact to a role of its own.
            var delegated = new Dictionary<string, TufKey>(StringComparer.Ordinal);
            var delegations = new List<DelegatedRole>();
            foreach (var (role, pattern) in new[] { (ReleasesRole, "agent/*/*"), (ContentRole, "content/*/*"), (RolloutsRole, "rollouts/*/*") })
            {
                delegated[signers[role].KeyId] = signers[role].PublicKey;
                delegations.Add(new DelegatedRole(role, new RoleKeys([signers[role].KeyId], 1), Terminating: true, [pattern]));
            }

            created.SignTargets(RoleNames.Targets, new TargetsMetadata(0, Whole(now + OfflineLifetime), new Dictionary<string, TargetFile>(), new Delegations(delegated, delegations)), [signers[RoleNames.Targets]]);
            foreach (var role in new[] { ReleasesRole, ContentRole, RolloutsRole })
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
    /// <returns>The published version.</returns>
    /// <exception cref="PortalException">The content is refused, or the version exists with other bytes.</exception>
    public async Task<ContentVersionDto> PublishContentAsync(string channel, byte[] bytes, CancellationToken ct)
    {
        LoadedContent loaded;
        try
        {
            loaded = ContentChannels.Get(channel).Load(Gatehouse.Content.Packages.ContentPackage.Parse(bytes));
        }
        catch (ContentException e)
        {
            throw PortalException.Invalid("$", $"The agent's loader refuses this content: {e.Message}");
        }

        if (!IsSafeVersion(loaded.Version))
        {
            throw PortalException.Invalid("version", $"A content version uses letters, digits, '.', '-' and '_' only (at most 64); got '{loaded.Version}'.");
        }

        var path = ContentTarget(channel, loaded.Version);
        await writes.WaitAsync(ct);
        try
        {
            var role = Repository.Targets(ContentRole)!;
            var target = TargetFile.Describe(path, bytes, new JsonObject { ["channel"] = channel, ["version"] = loaded.Version, ["records"] = (long)loaded.Records });
            if (role.Targets.TryGetValue(path, out var existing))
            {
                return existing.Hashes["sha256"] == target.Hashes["sha256"]
                    ? ToDto(existing)
                    : throw PortalException.Conflict($"Version {loaded.Version} of {channel} is published already with other content; publish a new version.", "version");
            }

            using var signer = OnlineSigner(ContentRole);
            var targets = new Dictionary<string, TargetFile>(role.Targets, StringComparer.Ordinal) { [path] = target };
            Repository.SignTargets(ContentRole, new TargetsMetadata(0, Whole(time.GetUtcNow() + OnlineTargetsLifetime), targets), [signer]);
            Repository.StoreArtifact(path, bytes, target.Custom);
            SignSnapshotAndTimestamp();
            return ToDto(target);
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
        return [.. Repository.Targets(ContentRole)!.Targets.Values.Where(t => t.Path.StartsWith(prefix, StringComparison.Ordinal)).Select(ToDto)];
    }

    /// <summary>A published content version, or <see langword="null"/>.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="version">The version.</param>
    /// <returns>The version.</returns>
    public ContentVersionDto? FindContent(string channel, string version) =>
        Repository.Targets(ContentRole)!.Targets.TryGetValue(ContentTarget(channel, version), out var target) ? ToDto(target) : null;

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
            foreach (var role in new[] { ContentRole, RolloutsRole })
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
        }
        finally
        {
            writes.Release();
        }
    }

    /// <summary>The target path of a content version.</summary>
    /// <param name="channel">The channel.</param>
    /// <param name="version">The version.</param>
    /// <returns>The path.</returns>
    public static string ContentTarget(string channel, string version) => $"content/{channel}/{version}.json";

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

    private TufSigner OnlineSigner(string role) => TufSigner.FromPemFile(Path.Combine(OnlineKeys, role + ".pem"));

    private static ContentVersionDto ToDto(TargetFile target) => new(
        target.Custom?["channel"]?.GetValue<string>() ?? "",
        target.Custom?["version"]?.GetValue<string>() ?? "",
        target.Path,
        target.Length,
        target.Hashes["sha256"],
        (int)(target.Custom?["records"] is System.Text.Json.Nodes.JsonValue records && records.TryGetValue<long>(out var count) ? count : 0));

    private static void WriteKey(string path, TufSigner signer)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(signer.ExportPrivateKeyPem());
    }

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
}
