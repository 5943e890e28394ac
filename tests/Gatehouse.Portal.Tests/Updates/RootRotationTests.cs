using System.Net;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Tuf.Metadata;
using Gatehouse.Tuf.Repository;
using static Gatehouse.Portal.Tests.Updates.ContentRoleTests;

namespace Gatehouse.Portal.Tests.Updates;

/// <summary>
/// The portal's repository renewed and its top-level keys replaced with <c>gatehouse release root sign</c>, as
/// docs/updates.md says: the portal keeps publishing, and a client that trusts only the first root follows.
/// </summary>
public sealed class RootRotationTests
{
    [Fact]
    public async Task Root_renewed_and_the_targets_snapshot_and_timestamp_keys_replaced_keep_the_portal_publishing_to_clients_at_root_1()
    {
        await using var portal = await PortalServer.StartAsync();
        using var admin = await portal.SignInAsync();
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(admin, Bypass("1"))).StatusCode);
        var repository = RepositoryOf(portal.DataDirectory);
        var rootKey = Path.Combine(portal.DataDirectory, "updates", "offline-keys", "root.pem");
        var online = Path.Combine(portal.DataDirectory, "updates", "online-keys");
        var keys = Directory.CreateTempSubdirectory("gatehouse-rotation-").FullName;

        // Renewed while the portal runs.
        await RunCliAsync(["release", "root", "sign", "--repo", repository, "--key", rootKey]);
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(admin, Bypass("2"))).StatusCode);
        Assert.Equal(Bypass("2"), await DownloadAsync(NewClient(portal).Updater, "content/bypass/2.json"));

        // A new targets key; the portal's own online keys re-sign snapshot and timestamp.
        var targets = Path.Combine(keys, "targets2.pem");
        await RunCliAsync(["release", "key", "create", targets]);
        await RunCliAsync(["release", "root", "sign", "--repo", repository, "--key", rootKey, "--targets-key", targets,
            "--snapshot-key", Path.Combine(online, "snapshot.pem"), "--timestamp-key", Path.Combine(online, "timestamp.pem")]);
        Assert.Equal(Bypass("2"), await DownloadAsync(NewClient(portal).Updater, "content/bypass/2.json"));
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(admin, Bypass("3"))).StatusCode);
        Assert.Equal(Bypass("3"), await DownloadAsync(NewClient(portal).Updater, "content/bypass/3.json"));

        // New online keys, moved over the files the portal signs with.
        var snapshot = Path.Combine(keys, "new-snapshot.pem");
        var timestamp = Path.Combine(keys, "new-timestamp.pem");
        await RunCliAsync(["release", "key", "create", snapshot]);
        await RunCliAsync(["release", "key", "create", timestamp]);
        await RunCliAsync(["release", "root", "sign", "--repo", repository, "--key", rootKey, "--snapshot-key", snapshot, "--timestamp-key", timestamp]);
        File.Move(snapshot, Path.Combine(online, "snapshot.pem"), overwrite: true);
        File.Move(timestamp, Path.Combine(online, "timestamp.pem"), overwrite: true);
        Assert.Equal(HttpStatusCode.Created, (await PublishAsync(admin, Bypass("4"))).StatusCode);
        Assert.Equal(Bypass("4"), await DownloadAsync(NewClient(portal).Updater, "content/bypass/4.json"));

        Assert.Equal(4, TufRepository.Open(repository).Root.Version);
        Assert.True(TufRepository.Open(repository).Root.RotatedKeysOf(RootMetadata.FromJson(SignedMetadata.Parse(File.ReadAllBytes(Path.Combine(repository, "metadata", "1.root.json"))).Signed), RoleNames.Snapshot));
        Directory.Delete(keys, recursive: true);
    }
}
