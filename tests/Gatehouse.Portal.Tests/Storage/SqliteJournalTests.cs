using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Storage;

/// <summary>
/// EF Core creates the SQLite file with write-ahead logging, and the file keeps it: readers never wait for
/// the writer, and a running portal's database is three files (docs/operations.md), which is why a backup
/// goes through SQLite's online backup and not a file copy.
/// </summary>
public sealed class SqliteJournalTests
{
    [Fact]
    public async Task A_portal_on_sqlite_keeps_a_write_ahead_log_so_that_readers_never_wait_for_a_writer()
    {
        await using var portal = await PortalServer.StartOnSqliteAsync();
        var path = portal.Services.GetRequiredService<StorageOptions>().SqlitePath;

        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var query = connection.CreateCommand();
        query.CommandText = "PRAGMA journal_mode";

        Assert.Equal("wal", await query.ExecuteScalarAsync());
    }
}
