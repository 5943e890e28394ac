using System.Data.Common;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Tests.Storage;

/// <summary>
/// Migrations are SQL scripts per engine; these tests prove that a database built by the
/// migrations has exactly the schema the EF Core model describes, on both engines.
/// </summary>
public sealed class MigrationTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-migration-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Migrated_sqlite_schema_equals_the_model()
    {
        await AssertSameSchemaAsync(
            new StorageOptions { DataDirectory = Path.Combine(_root, "migrated") },
            new StorageOptions { DataDirectory = Path.Combine(_root, "created") },
            """
            SELECT m.name || '.' || p.name || ' ' || p.type || (CASE WHEN p."notnull" = 1 THEN ' not null' ELSE '' END) || (CASE WHEN p.pk > 0 THEN ' pk' ELSE '' END)
            FROM sqlite_master m JOIN pragma_table_info(m.name) p
            WHERE m.type = 'table' AND m.name NOT LIKE '\_\_%' ESCAPE '\' AND m.name NOT LIKE 'sqlite_%'
            UNION ALL
            SELECT 'index ' || name || ' on ' || tbl_name || ': ' || COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'
            """);
    }

    [PostgresFact]
    public async Task Migrated_postgresql_schema_equals_the_model()
    {
        await AssertSameSchemaAsync(
            new StorageOptions { PostgresConnectionString = await SharedPostgres.CreateDatabaseAsync() },
            new StorageOptions { PostgresConnectionString = await SharedPostgres.CreateDatabaseAsync() },
            """
            SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(character_maximum_length::text, '')
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '\_\_%'
            UNION ALL
            SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE '\_\_%'
            UNION ALL
            SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '%EFMigrationsHistory%'
            """);
    }

    [Fact]
    public async Task Migrating_an_up_to_date_database_changes_nothing()
    {
        await using var db = Open(new StorageOptions { DataDirectory = Path.Combine(_root, "twice") });
        await db.Database.MigrateAsync();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        await db.Database.MigrateAsync();
        Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
    }

    private static async Task AssertSameSchemaAsync(StorageOptions migratedOptions, StorageOptions createdOptions, string schemaQuery)
    {
        await using var migrated = Open(migratedOptions);
        await migrated.Database.MigrateAsync();
        await using var created = Open(createdOptions);
        await created.Database.EnsureCreatedAsync();

        var expected = await ReadSchemaAsync(created, schemaQuery);
        var actual = await ReadSchemaAsync(migrated, schemaQuery);
        Assert.NotEmpty(expected);
        Assert.True(
            expected.SequenceEqual(actual),
            "The migrations do not build the model's schema. Missing: " + string.Join("; ", expected.Except(actual))
            + ". Unexpected: " + string.Join("; ", actual.Except(expected)) + ". See docs/contributing.md, 'Changing the database'.");
    }

    private static PortalDbContext Open(StorageOptions options) => StorageServiceCollectionExtensions.OpenContext(options);

    private static async Task<List<string>> ReadSchemaAsync(PortalDbContext db, string query)
    {
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using DbCommand command = connection.CreateCommand();
        command.CommandText = query;
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }
}
