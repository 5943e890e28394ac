using System.Net.Http.Json;
using System.Security.Cryptography;
using Gatehouse.Portal.Devices;
using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Portal.Users;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Storage;

/// <summary>
/// <c>gatehouse-portal backup</c>: a copy taken while the portal writes starts a portal that has the same
/// data, the same certificate, tenant keys that still sign and the same update repository (devices trust
/// its root); a copy that could not be restored is refused.
/// </summary>
public sealed class BackupTests : IDisposable
{
    private readonly string _backups = Directory.CreateTempSubdirectory("gatehouse-backup-test-").FullName;

    public void Dispose() => Directory.Delete(_backups, recursive: true);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_backup_taken_while_the_portal_writes_restores_a_portal_with_the_same_data_and_keys()
    {
        var target = Path.Combine(_backups, "portal");
        int groupsInBackup;
        string thumbprint;
        Guid deviceId;
        Dictionary<string, byte[]> keysAndRoot;
        await using (var portal = await PortalServer.StartOnSqliteAsync())
        {
            thumbprint = portal.TlsCertificate.Thumbprint;
            keysAndRoot = UpdateRepositoryTrust(portal.DataDirectory);
            using var admin = await portal.SignInAsync();
            (await admin.PostAsJsonAsync("users", new CreateUserRequest("before@example.test", null, null))).EnsureSuccessStatusCode();
            using (var device = await Enrollee.EnrollDeviceAsync(portal, await Enrollee.CreateTokenAsync(admin)))
            {
                deviceId = device.Response.SubjectId;
            }

            // The portal keeps writing all through the backup.
            using var stop = new CancellationTokenSource();
            var written = 0;
            var writes = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    (await admin.PostAsJsonAsync("groups", new CreateGroupRequest($"group-{written}", null))).EnsureSuccessStatusCode();
                    Interlocked.Increment(ref written);
                }
            });
            await WaitForAsync(() => Volatile.Read(ref written) >= 3);
            var backup = await PortalBackup.CreateAsync(Storage(portal), target, CancellationToken.None);
            var afterBackup = Volatile.Read(ref written);
            await WaitForAsync(() => Volatile.Read(ref written) >= afterBackup + 2);
            await stop.CancelAsync();
            await writes;

            Assert.True(backup.Database);
            Assert.StartsWith("portal.db (SQLite online backup, integrity ok), master.key, tls.crt, tls.key, updates/ (", backup.Contents, StringComparison.Ordinal);
            string[] expected = ["master.key", "tls.crt", "tls.key", Path.Combine("updates", "repository", "metadata", "1.root.json"), Path.Combine("updates", "online-keys", "timestamp.pem")];
            Assert.Subset(backup.Files.ToHashSet(), expected.ToHashSet());
            Assert.DoesNotContain(backup.Files, file => file.StartsWith("portal.db", StringComparison.Ordinal));
            Assert.Equal(1, backup.Tenants);
            groupsInBackup = await CountAsync<Group>(Storage(target));
            Assert.InRange(groupsInBackup, 3, written - 2);
        }

        Assert.Equal("700", Mode(target));
        Assert.All(Directory.GetFiles(target, "*", SearchOption.AllDirectories), file => Assert.Equal("600", Mode(file)));
        Assert.All(Directory.GetDirectories(target, "*", SearchOption.AllDirectories), directory => Assert.Equal("700", Mode(directory)));

        // Restored: the files are the data directory of a new portal.
        await using var restored = await PortalServer.StartOnSqliteAsync(target);
        Assert.Equal(thumbprint, restored.TlsCertificate.Thumbprint);
        var restoredTrust = UpdateRepositoryTrust(restored.DataDirectory);
        Assert.Equal(keysAndRoot.Keys.Order(), restoredTrust.Keys.Order());
        Assert.All(keysAndRoot, entry => Assert.Equal(entry.Value, restoredTrust[entry.Key]));
        using var owner = await restored.SignInAsync();
        var users = await owner.GetFromJsonAsync<Page<UserDto>>("users", PortalServer.Json);
        Assert.Contains(users!.Items, u => u.Email == "before@example.test");
        Assert.Equal(groupsInBackup, await CountAsync<Group>(Storage(restored)));
        Assert.Equal(1, await CountAsync<Device>(Storage(restored), d => d.Id == deviceId));

        // The tenant CA's key decrypted: a new device enrolls, its certificate signed by the same CA.
        using var another = await Enrollee.EnrollDeviceAsync(restored, await Enrollee.CreateTokenAsync(owner));
        Assert.NotEqual(deviceId, another.Response.SubjectId);
    }

    [Fact]
    public async Task The_command_takes_the_portals_data_directory_and_answers_with_its_exit_code()
    {
        await using var portal = await PortalServer.StartOnSqliteAsync();
        var target = Path.Combine(_backups, "by-command");

        var done = await PortalHost.RunAsync(["backup", target, "--data-dir", portal.DataDirectory]);
        var again = await PortalHost.RunAsync(["backup", target, "--data-dir", portal.DataDirectory]);
        var elsewhere = await PortalHost.RunAsync(["backup", Path.Combine(_backups, "other"), "--data-dir", Path.Combine(_backups, "no-portal-here")]);

        Assert.Equal((0, 1, 1), (done, again, elsewhere));
        Assert.True(File.Exists(Path.Combine(target, "portal.db")));
        Assert.False(Directory.Exists(Path.Combine(_backups, "other")));
        Assert.False(Directory.Exists(Path.Combine(_backups, "no-portal-here")), "the command created the data directory it was wrongly given");
    }

    [Fact]
    public async Task A_destination_in_use_or_a_directory_without_a_portal_is_refused_and_nothing_is_written()
    {
        await using var portal = await PortalServer.StartOnSqliteAsync();
        var used = Path.Combine(_backups, "used");
        Directory.CreateDirectory(used);
        await File.WriteAllTextAsync(Path.Combine(used, "earlier-backup"), "kept");
        var empty = Path.Combine(_backups, "not-a-portal");
        Directory.CreateDirectory(empty);

        var inUse = await Assert.ThrowsAsync<PortalBackupException>(() => PortalBackup.CreateAsync(Storage(portal), used, CancellationToken.None));
        var noPortal = await Assert.ThrowsAsync<PortalBackupException>(() => PortalBackup.CreateAsync(new StorageOptions { DataDirectory = empty }, Path.Combine(_backups, "b"), CancellationToken.None));

        Assert.Contains("is not empty: a backup never overwrites another", inUse.Message, StringComparison.Ordinal);
        Assert.Equal(["earlier-backup"], Directory.GetFileSystemEntries(used).Select(Path.GetFileName));
        Assert.Contains("holds no master.key", noPortal.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_backups, "b")));
    }

    [Fact]
    public async Task A_database_whose_keys_do_not_decrypt_with_the_master_key_beside_it_is_no_backup()
    {
        // A data directory whose master.key is another portal's: what a restore of mixed-up files would give.
        var mixed = Path.Combine(_backups, "mixed");
        await using (var portal = await PortalServer.StartOnSqliteAsync())
        {
            await PortalBackup.CreateAsync(Storage(portal), mixed, CancellationToken.None);
        }

        File.Delete(Path.Combine(mixed, "master.key"));
        await File.WriteAllBytesAsync(Path.Combine(mixed, "master.key"), RandomNumberGenerator.GetBytes(32));

        var refused = await Assert.ThrowsAsync<PortalBackupException>(() => PortalBackup.CreateAsync(new StorageOptions { DataDirectory = mixed }, Path.Combine(_backups, "copy"), CancellationToken.None));

        Assert.Contains("do not decrypt with master.key: the database and the key are not from the same portal", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_backups, "copy")), "half a backup was left behind");
    }

    [Fact]
    public async Task On_postgresql_the_keys_are_copied_and_checked_against_the_database_which_is_left_to_pg_dump()
    {
        await using var portal = await PortalEngines.StartAsync(PortalEngines.Postgres);
        var target = Path.Combine(_backups, "keys");

        var backup = await PortalBackup.CreateAsync(Storage(portal), target, CancellationToken.None);

        Assert.False(backup.Database);
        Assert.Equal(1, backup.Tenants);
        Assert.Equal(["master.key", "tls.crt", "tls.key"], Directory.GetFiles(target).Select(Path.GetFileName).Order());
        Assert.True(File.Exists(Path.Combine(target, "updates", "repository", "metadata", "1.root.json")));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(portal.DataDirectory, "master.key")), await File.ReadAllBytesAsync(Path.Combine(target, "master.key")));
    }

    /// <summary>What devices trust and the portal signs with: the update repository's first root and its keys, online and offline.</summary>
    private static Dictionary<string, byte[]> UpdateRepositoryTrust(string dataDirectory)
    {
        var updates = Path.Combine(dataDirectory, "updates");
        return Directory.GetFiles(Path.Combine(updates, "online-keys"))
            .Concat(Directory.GetFiles(Path.Combine(updates, "offline-keys")))
            .Append(Path.Combine(updates, "repository", "metadata", "1.root.json"))
            .ToDictionary(file => Path.GetRelativePath(dataDirectory, file), File.ReadAllBytes);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(20, patience.Token);
        }
    }

    private static StorageOptions Storage(PortalServer portal) => portal.Services.GetRequiredService<StorageOptions>();

    private static StorageOptions Storage(string dataDirectory) => new() { DataDirectory = dataDirectory };

    private static Task<int> CountAsync<T>(StorageOptions storage)
        where T : class => CountAsync<T>(storage, _ => true);

    private static async Task<int> CountAsync<T>(StorageOptions storage, System.Linq.Expressions.Expression<Func<T, bool>> where)
        where T : class
    {
        await using var db = StorageServiceCollectionExtensions.OpenContext(storage);
        return await db.Set<T>().IgnoreQueryFilters().CountAsync(where);
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string Mode(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);
}
