using Gatehouse.Tuf.Client;
using Gatehouse.Tuf.Keys;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;

namespace Gatehouse.Tuf.Tests.Repository;

/// <summary>
/// <see cref="TufRepository.SignNextRoot"/>: root renewed and any top-level role's keys replaced, checked before
/// anything is written, and followed by a client that trusts only the first root.
/// </summary>
public sealed class RootRotationTests : IDisposable
{
    private static readonly DateTimeOffset Now = Whole(DateTimeOffset.UtcNow);

    private readonly string folder = Directory.CreateTempSubdirectory("gatehouse-root-rotation-").FullName;
    private readonly Dictionary<string, TufSigner> keys = new(StringComparer.Ordinal);

    private string Repo => Path.Combine(folder, "repo");

    [Fact]
    public async Task A_client_at_root_1_follows_a_renewed_root_and_a_rotated_targets_key_to_a_target_the_new_key_signed()
    {
        var repository = Create();
        Add(repository, "agent/1.0.0/a.tar.gz", "one", Key("targets"));
        var client = NewClient();
        await client.RefreshAsync();
        Assert.Equal("one", await DownloadAsync(client, "agent/1.0.0/a.tar.gz"));

        var renewed = repository.SignNextRoot(new RootRotation { Expires = Now.AddDays(700), CurrentRootKeys = [Key("root1")] });
        var rotated = repository.SignNextRoot(new RootRotation
        {
            Expires = Now.AddDays(700),
            CurrentRootKeys = [Key("root1")],
            TargetsKeys = [Key("targets2")],
            SnapshotKeys = [Key("snapshot")],
            TimestampKeys = [Key("timestamp")],
            TargetsExpires = Now.AddDays(365),
            OnlineExpires = Now.AddDays(7),
        });
        // Straight after the rotation, before anything else is signed, the repository is one clients accept.
        Assert.Equal("one", await DownloadAsync(NewClient(keepState: true), "agent/1.0.0/a.tar.gz"));
        Add(repository, "agent/2.0.0/a.tar.gz", "two", Key("targets2"));

        Assert.Equal(2, renewed.RootVersion);
        Assert.Empty(renewed.Resigned);
        Assert.Equal(3, rotated.RootVersion);
        Assert.Equal(new Dictionary<string, long> { ["targets"] = 3, ["snapshot"] = 3, ["timestamp"] = 3 }, rotated.Resigned);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(Repo, "metadata", "3.root.json")), await File.ReadAllBytesAsync(Path.Combine(Repo, "metadata", "root.json")));
        client = NewClient(keepState: true);
        await client.RefreshAsync();
        Assert.Equal(3, RootMetadata.FromJson(SignedMetadata.Parse(new MetadataStore(Path.Combine(folder, "client", "metadata")).Read(RoleNames.Root)!).Signed).Version);
        Assert.Equal("two", await DownloadAsync(client, "agent/2.0.0/a.tar.gz"));
        Assert.Equal("one", await DownloadAsync(client, "agent/1.0.0/a.tar.gz"));
        // The old key no longer signs targets.
        Assert.Equal(TufFailure.Unsigned, Assert.Throws<TufException>(() => Add(repository, "agent/3.0.0/a.tar.gz", "three", Key("targets"))).Failure);
    }

    [Fact]
    public async Task A_root_signed_only_by_new_keys_is_refused_by_the_client_and_by_the_repository()
    {
        var repository = Create();
        var client = NewClient();
        await client.RefreshAsync();
        var current = repository.Root;
        var rootKeys = new RoleKeys([Key("root3").KeyId], 1);
        var keyMap = new Dictionary<string, TufKey>(current.Keys, StringComparer.Ordinal) { [Key("root3").KeyId] = Key("root3").PublicKey };
        var roles = new Dictionary<string, RoleKeys>(current.Roles, StringComparer.Ordinal) { [RoleNames.Root] = rootKeys };
        var forged = new RootMetadata(2, Now.AddDays(30), keyMap, roles, consistentSnapshot: true);
        await File.WriteAllBytesAsync(Path.Combine(Repo, "metadata", "2.root.json"), SignedMetadata.Sign(forged.ToJson(), [Key("root3")]));

        var refused = await Assert.ThrowsAsync<TufException>(() => NewClient(keepState: true).RefreshAsync());

        Assert.Equal(TufFailure.Unsigned, refused.Failure);
        Assert.Contains("trusted root", refused.Message, StringComparison.Ordinal);
        Assert.Equal(TufFailure.Unsigned, Assert.Throws<TufException>(() => repository.SignNextRoot(new RootRotation { Expires = Now.AddDays(30), CurrentRootKeys = [Key("root3")] })).Failure);
    }

    [Fact]
    public async Task Rotated_root_snapshot_and_timestamp_keys_take_over_and_the_old_ones_sign_nothing()
    {
        var repository = Create(rootThreshold: 2);
        var client = NewClient();
        await client.RefreshAsync();

        repository.SignNextRoot(new RootRotation
        {
            Expires = Now.AddDays(365),
            CurrentRootKeys = [Key("root1"), Key("root2")],
            RootKeys = [Key("root3")],
            RootThreshold = 1,
            SnapshotKeys = [Key("snapshot2")],
            TimestampKeys = [Key("timestamp2")],
            OnlineExpires = Now.AddDays(7),
        });

        await NewClient(keepState: true).RefreshAsync();
        Assert.Equal(TufFailure.Unsigned, Assert.Throws<TufException>(() => repository.SignSnapshot([Key("snapshot")], Now.AddDays(7))).Failure);
        Assert.Equal(TufFailure.Unsigned, Assert.Throws<TufException>(() => repository.SignNextRoot(new RootRotation { Expires = Now.AddDays(365), CurrentRootKeys = [Key("root1"), Key("root2")] })).Failure);
        Assert.Equal(3, repository.SignNextRoot(new RootRotation { Expires = Now.AddDays(365), CurrentRootKeys = [Key("root3")] }).RootVersion);
        repository.SignSnapshot([Key("snapshot2")], Now.AddDays(7));
        repository.SignTimestamp([Key("timestamp2")], Now.AddDays(7));
        await NewClient(keepState: true).RefreshAsync();
        Assert.Equal(
            [(RoleNames.Root, 3L), (RoleNames.Targets, 1L), (RoleNames.Snapshot, 3L), (RoleNames.Timestamp, 3L)],
            repository.States().Select(s => (s.Name, s.Version)));
    }

    [Fact]
    public void A_root_file_edited_on_disk_after_it_was_checked_is_refused_even_with_its_length_and_write_time_unchanged()
    {
        // The chain is kept between calls; what it was checked from must be the bytes, not the version count or file times.
        var repository = Create();
        repository.SignNextRoot(new RootRotation { Expires = Now.AddDays(365), CurrentRootKeys = [Key("root1")] });
        Assert.Equal(2, repository.Root.Version);
        var file = Path.Combine(Repo, "metadata", "2.root.json");
        var written = File.GetLastWriteTimeUtc(file);
        var text = File.ReadAllText(file);
        var year = Now.AddDays(365).Year.ToString(System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(file, text.Replace($"\"{year}-", $"\"{Now.AddDays(365).Year + 1}-", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(file, written);

        var refused = Assert.Throws<TufException>(() => repository.Root);

        Assert.Equal(text.Length, File.ReadAllText(file).Length);
        Assert.NotEqual(text, File.ReadAllText(file));
        Assert.Equal(TufFailure.Unsigned, refused.Failure);
        Assert.Contains("root version 2", refused.Message, StringComparison.Ordinal);
        File.WriteAllText(file, text);
        Assert.Equal(2, repository.Root.Version);
    }

    [Fact]
    public void A_root_another_process_signs_is_seen_by_a_repository_opened_before()
    {
        // The portal holds its repository open while `gatehouse release root sign` writes the next root.
        var portal = Create();
        Assert.Equal(1, portal.Root.Version);
        var keysBefore = portal.Root.Role(RoleNames.Timestamp).KeyIds;

        TufRepository.Open(Repo).SignNextRoot(new RootRotation
        {
            Expires = Now.AddDays(365), CurrentRootKeys = [Key("root1")], TimestampKeys = [Key("timestamp2")], OnlineExpires = Now.AddDays(7),
        });

        Assert.Equal(2, portal.Root.Version);
        Assert.Equal([Key("timestamp2").KeyId], portal.Root.Role(RoleNames.Timestamp).KeyIds);
        Assert.NotEqual(keysBefore, portal.Root.Role(RoleNames.Timestamp).KeyIds);
        Assert.Equal(TufFailure.Unsigned, Assert.Throws<TufException>(() => portal.SignTimestamp([Key("timestamp")], Now.AddDays(7))).Failure);
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "too-few-current", "root version 1 needs 2 of its 2 root keys to sign the next version; 1 given" },
        { "foreign-current", "is not a root key of root version 1" },
        { "new-threshold", "a root threshold of 3 cannot be met by the 2 root keys the new root lists" },
        { "fewer-than-current-threshold", "the new root lists 1 root key, fewer than the current threshold of 2: give the new threshold" },
        { "new-unsigned", "root version 2 needs 2 of its 2 root keys to sign it; 1 given" },
        { "targets-alone", "a re-signed targets needs a new snapshot" },
        { "snapshot-alone", "a re-signed snapshot needs a new timestamp" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_rotation_that_would_not_verify_is_refused_and_writes_nothing(string refusal, string message)
    {
        // A root of two keys that both must sign; for new-unsigned, either may, and the new root asks for both.
        var repository = Create(rootThreshold: refusal == "new-unsigned" ? 1 : 2);
        var before = Files();
        var both = new[] { Key("root1"), Key("root2") };
        var rotation = refusal switch
        {
            "too-few-current" => new RootRotation { Expires = Now.AddDays(1), CurrentRootKeys = [Key("root1")] },
            "foreign-current" => new RootRotation { Expires = Now.AddDays(1), CurrentRootKeys = [.. both, Key("root3")] },
            "new-threshold" => new RootRotation { Expires = Now.AddDays(1), CurrentRootKeys = both, RootThreshold = 3 },
            "fewer-than-current-threshold" => new RootRotation { Expires = Now.AddDays(1), CurrentRootKeys = both, RootKeys = [Key("root3")] },
            "new-unsigned" => new RootRotation { Expires = Now.AddDays(1), CurrentRootKeys = [Key("root1")], RootThreshold = 2 },
            "targets-alone" => new RootRotation { Expires = Now.AddDays(1), CurrentRootKeys = both, TargetsKeys = [Key("targets2")] },
            "snapshot-alone" => new RootRotation { Expires = Now.AddDays(1), CurrentRootKeys = both, SnapshotKeys = [Key("snapshot2")] },
            _ => throw new ArgumentOutOfRangeException(nameof(refusal)),
        };

        var refused = Assert.Throws<TufException>(() => repository.SignNextRoot(rotation));

        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, Files());
    }

    public void Dispose()
    {
        foreach (var key in keys.Values)
        {
            key.Dispose();
        }

        Directory.Delete(folder, recursive: true);
    }

    private TufSigner Key(string name)
    {
        if (!keys.TryGetValue(name, out var key))
        {
            keys[name] = key = TufSigner.GenerateEcdsa();
        }

        return key;
    }

    private TufRepository Create(int rootThreshold = 1)
    {
        var rootSigners = new[] { Key("root1"), Key("root2") };
        var signers = new Dictionary<string, IReadOnlyList<TufSigner>>
        {
            [RoleNames.Root] = rootSigners,
            [RoleNames.Targets] = [Key("targets")],
            [RoleNames.Snapshot] = [Key("snapshot")],
            [RoleNames.Timestamp] = [Key("timestamp")],
        };
        var keyMap = signers.Values.SelectMany(s => s).ToDictionary(s => s.KeyId, s => s.PublicKey, StringComparer.Ordinal);
        var roles = signers.ToDictionary(s => s.Key, s => new RoleKeys([.. s.Value.Select(k => k.KeyId)], s.Key == RoleNames.Root ? rootThreshold : 1), StringComparer.Ordinal);
        return TufRepository.Create(Repo, new RootMetadata(1, Now.AddDays(365), keyMap, roles, consistentSnapshot: true), signers, _ => Now.AddDays(30));
    }

    private void Add(TufRepository repository, string path, string content, TufSigner targetsKey)
    {
        var current = repository.Targets(RoleNames.Targets)!;
        var target = TargetFile.Describe(path, System.Text.Encoding.UTF8.GetBytes(content));
        var targets = new Dictionary<string, TargetFile>(current.Targets, StringComparer.Ordinal) { [path] = target };
        repository.SignTargets(RoleNames.Targets, new TargetsMetadata(0, Now.AddDays(30), targets), [targetsKey]);
        repository.StoreArtifact(path, System.Text.Encoding.UTF8.GetBytes(content));
        var rootKeys = repository.Root;
        repository.SignSnapshot([.. rootKeys.Role(RoleNames.Snapshot).KeyIds.Select(id => keys.Values.First(k => k.KeyId == id))], Now.AddDays(7));
        repository.SignTimestamp([.. rootKeys.Role(RoleNames.Timestamp).KeyIds.Select(id => keys.Values.First(k => k.KeyId == id))], Now.AddDays(7));
    }

    private List<(string, string)> Files() =>
        [.. Directory.EnumerateFiles(Repo, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => (f, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))))];

    // A client that starts from 1.root.json, as one shipped with the agent would; keepState reuses what it trusted before.
    private TufUpdater NewClient(bool keepState = false)
    {
        var metadata = Path.Combine(folder, "client", "metadata");
        if (!keepState)
        {
            TufUpdater.Initialize(metadata, File.ReadAllBytes(Path.Combine(Repo, "metadata", "1.root.json")));
        }

        return DirectoryRemoteFiles.Updater(Repo, Path.Combine(folder, "client"));
    }

    private static async Task<string> DownloadAsync(TufUpdater client, string path)
    {
        var target = await client.GetTargetInfoAsync(path) ?? throw new TufException(TufFailure.UnknownTarget, path);
        return await File.ReadAllTextAsync(await client.DownloadTargetAsync(target));
    }

    private static DateTimeOffset Whole(DateTimeOffset at) => new(at.Ticks - (at.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
