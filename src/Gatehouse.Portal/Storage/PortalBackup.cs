using Gatehouse.Portal.Tenants;
using Gatehouse.Trust;
using Gatehouse.Trust.Secrets;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Storage;

/// <summary>
/// A copy of what a portal cannot be rebuilt without, taken while it runs (<c>gatehouse-portal backup
/// DIRECTORY</c>): the SQLite database through SQLite's online backup, which copies one consistent state
/// however the portal writes meanwhile, and every other file of the data directory: the master key, the
/// TLS certificate, the update repository and its signing keys. A PostgreSQL database is left to
/// <c>pg_dump</c>; the files are copied all the same.
/// </summary>
/// <remarks>
/// <code>
/// data dir ──online backup──► DIRECTORY/portal.db ──integrity_check──► "ok"
///          ──copy───────────► DIRECTORY/master.key, tls.*, updates/… (files 0600, directories 0700);
///                             copied again when a file changed meanwhile (the repository re-signs its
///                             snapshot and timestamp on its own), up to three times
/// every tenant's CA and config keys in the copied database (or in PostgreSQL) must decrypt with the copied
/// master key: a database without its key is no backup (every device would have to enroll again)
/// </code>
/// The database is copied first and the files after it, so the files are never older than the database: a
/// rollout in the copy names content the copied repository holds (content is only ever added to it).
/// A restore is the other way round with the portal stopped: the files back into an empty data directory.
/// </remarks>
public static class PortalBackup
{
    private const int CopyAttempts = 3;

    /// <summary>Copies the portal's data to <paramref name="destination"/>, a directory that must not exist or be empty.</summary>
    /// <param name="storage">The running portal's data directory and engine.</param>
    /// <param name="destination">Where the copy goes.</param>
    /// <param name="ct">Cancels the copy.</param>
    /// <returns>What was copied.</returns>
    /// <exception cref="PortalBackupException">Nothing to copy, a destination in use, or a copy that does not check out.</exception>
    public static async Task<BackupSummary> CreateAsync(StorageOptions storage, string destination, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        destination = Path.GetFullPath(destination);
        var source = Path.GetFullPath(storage.DataDirectory);
        if (!File.Exists(storage.MasterKeyPath))
        {
            throw new PortalBackupException($"{source} holds no {Path.GetFileName(storage.MasterKeyPath)}: is it the running portal's data directory (--data-dir)?");
        }

        var sqlite = storage.Engine == "sqlite";
        if (sqlite && !File.Exists(storage.SqlitePath))
        {
            throw new PortalBackupException($"{source} holds no {Path.GetFileName(storage.SqlitePath)}: is it the running portal's data directory (--data-dir), or does the portal use PostgreSQL (--postgres)?");
        }

        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new PortalBackupException($"{destination} is not empty: a backup never overwrites another. Name a new directory.");
        }

        if (destination.StartsWith(source + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new PortalBackupException($"{destination} is inside the data directory {source}: a backup belongs off the portal's disk.");
        }

        OwnerOnlyFile.CreateDirectory(destination);
        try
        {
            var copy = new StorageOptions { DataDirectory = destination, PostgresConnectionString = sqlite ? null : storage.PostgresConnectionString };
            if (sqlite)
            {
                CopyDatabase(storage.SqlitePath, copy.SqlitePath);
            }

            var files = CopyFiles(source, destination, Path.GetFileName(storage.SqlitePath), ct);
            var tenants = await CheckKeysAsync(copy, new SecretProtector(LoadCopiedKey(copy.MasterKeyPath)), ct);
            return new BackupSummary(destination, sqlite, files, tenants);
        }
        catch
        {
            // Half a backup is worse than none: it could be taken for one.
            SqliteConnection.ClearAllPools();
            Directory.Delete(destination, recursive: true);
            throw;
        }
    }

    /// <summary>Every file but the database's (<paramref name="database"/> and its journals), until one pass sees no file change while it copies.</summary>
    private static List<string> CopyFiles(string source, string destination, string database, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var before = Fingerprint(source, database);
            foreach (var file in before)
            {
                ct.ThrowIfCancellationRequested();
                var target = Path.Combine(destination, file.Path);
                OwnerOnlyFile.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(Path.Combine(source, file.Path), target, overwrite: true);
                OwnerOnlyFile.Restrict(target);
            }

            if (Fingerprint(source, database).SequenceEqual(before))
            {
                return [.. before.Select(f => f.Path)];
            }

            if (attempt == CopyAttempts)
            {
                throw new PortalBackupException($"Files of {source} changed during each of {CopyAttempts} copies; run the backup again.");
            }
        }
    }

    /// <summary>Each file's path, size and time of last change, in order, but the database's.</summary>
    private static List<FileStamp> Fingerprint(string root, string database) =>
    [
        .. new DirectoryInfo(root).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => !f.Name.StartsWith(database, StringComparison.Ordinal))
            .Select(f => new FileStamp(Path.GetRelativePath(root, f.FullName), f.Length, f.LastWriteTimeUtc))
            .OrderBy(f => f.Path, StringComparer.Ordinal),
    ];

    /// <summary>SQLite's online backup: pages copied under a read lock, restarted when the portal writes between steps, so the copy is one state of the database.</summary>
    private static void CopyDatabase(string source, string target)
    {
        using (var from = new SqliteConnection($"Data Source={source};Pooling=False;Default Timeout=30"))
        using (var to = new SqliteConnection($"Data Source={target};Pooling=False"))
        {
            from.Open();
            to.Open();
            from.BackupDatabase(to);
            using var check = to.CreateCommand();
            check.CommandText = "PRAGMA integrity_check";
            var verdict = check.ExecuteScalar() as string;
            if (verdict != "ok")
            {
                throw new PortalBackupException($"The copy of the database does not check out ({verdict}); the portal's own file may be damaged: run `sqlite3 {source} 'PRAGMA integrity_check'`.");
            }
        }

        OwnerOnlyFile.Restrict(target);
    }

    /// <summary>The copied master key; none there (the portal's went while the files were copied) is said as that.</summary>
    private static byte[] LoadCopiedKey(string path)
    {
        try
        {
            return SecretProtector.LoadMasterKey(path);
        }
        catch (TrustException e)
        {
            throw new PortalBackupException($"The backup has no usable {Path.GetFileName(path)}: {e.Message}");
        }
    }

    /// <summary>Every tenant's CA and config keys must decrypt with the master key that goes with the copy.</summary>
    private static async Task<int> CheckKeysAsync(StorageOptions copy, SecretProtector secrets, CancellationToken ct)
    {
        await using var db = StorageServiceCollectionExtensions.OpenContext(copy);
        var tenants = await db.Set<Tenant>().IgnoreQueryFilters().AsNoTracking()
            .Select(t => new { t.Name, t.CaPrivateKeyProtected, t.ConfigKeyProtected })
            .ToListAsync(ct);
        foreach (var tenant in tenants)
        {
            try
            {
                secrets.Unprotect(tenant.CaPrivateKeyProtected, TenantProvisioner.CaKeyPurpose);
                secrets.Unprotect(tenant.ConfigKeyProtected, TenantProvisioner.ConfigKeyPurpose);
            }
            catch (TrustException)
            {
                throw new PortalBackupException($"The keys of tenant {tenant.Name} do not decrypt with {Path.GetFileName(copy.MasterKeyPath)}: the database and the key are not from the same portal.");
            }
        }

        return tenants.Count;
    }
}

/// <summary>What a backup copied.</summary>
/// <param name="Directory">Where it is.</param>
/// <param name="Database">Whether the database is in it (SQLite); PostgreSQL is dumped with <c>pg_dump</c>.</param>
/// <param name="Files">The data directory's files copied besides the database, relative to it.</param>
/// <param name="Tenants">Tenants whose keys were checked against the master key.</param>
public sealed record BackupSummary(string Directory, bool Database, IReadOnlyList<string> Files, int Tenants)
{
    /// <summary>What is in it, for people: the database, the top-level files, and each directory with its number of files.</summary>
    public string Contents
    {
        get
        {
            var entries = Files
                .GroupBy(file => file.Split(Path.DirectorySeparatorChar)[0])
                .Select(entry => entry.Count() == 1 && entry.Single() == entry.Key ? entry.Key : $"{entry.Key}/ ({entry.Count()} files)");
            return string.Join(", ", Database ? ["portal.db (SQLite online backup, integrity ok)", .. entries] : entries);
        }
    }
}

internal readonly record struct FileStamp(string Path, long Length, DateTime Changed);

/// <summary>A backup that could not be made; the message says why and what to do.</summary>
public sealed class PortalBackupException(string message) : Exception(message);
