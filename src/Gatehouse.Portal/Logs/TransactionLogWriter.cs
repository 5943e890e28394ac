using System.Data.Common;
using Gatehouse.Portal.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Portal.Logs;

/// <summary>
/// Stores a batch of transaction log rows in bulk, all or nothing: a binary <c>COPY</c> on PostgreSQL, one
/// prepared <c>INSERT</c> run per row inside one transaction on SQLite. Measured with 1,000 rows
/// (bench/portal.sh), both cost a third or less of EF Core's <c>SaveChanges</c>, which tracks every entity
/// and builds 24,000 parameters. Table, columns and value conversions are read from the EF Core model, so
/// the writer follows the model that the migrations are checked against.
/// <para>
/// The rows' tenant is set by the caller from the certificate; nothing here needs the context's tenant
/// stamping, and a log row is no config change, so the publisher is rightly not told.
/// </para>
/// </summary>
internal static class TransactionLogWriter
{
    public static async Task WriteAsync(PortalDbContext db, IReadOnlyList<TransactionLogEntry> entries, CancellationToken ct)
    {
        if (entries.Count == 0)
        {
            return;
        }

        var entity = db.Model.FindEntityType(typeof(TransactionLogEntry))!;
        var table = entity.GetTableName()!;
        var columns = entity.GetProperties().Select(p => new Column(p.GetColumnName(), p, p.GetRelationalTypeMapping())).ToArray();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            if (db.Database.GetDbConnection() is NpgsqlConnection postgres)
            {
                await CopyAsync(postgres, table, columns, entries, ct);
            }
            else
            {
                await InsertAsync(db, table, columns, entries, ct);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private sealed record Column(string Name, IProperty Property, RelationalTypeMapping Mapping)
    {
        /// <summary>The value as the database stores it (after the model's conversion), or null.</summary>
        public object? ProviderValue(TransactionLogEntry entry)
        {
            var value = Property.PropertyInfo!.GetValue(entry);
            return value is null ? null : Mapping.Converter is { } converter ? converter.ConvertToProvider(value) : value;
        }
    }

    private static async Task CopyAsync(NpgsqlConnection connection, string table, Column[] columns, IReadOnlyList<TransactionLogEntry> entries, CancellationToken ct)
    {
        var types = columns.Select(c => CopyType(c.Mapping.Converter?.ProviderClrType ?? c.Property.ClrType)).ToArray();
        var command = $"COPY \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c.Name}\""))}) FROM STDIN (FORMAT BINARY)";
        // COPY is one statement: a failure part way stores nothing.
        await using var importer = await connection.BeginBinaryImportAsync(command, ct);
        foreach (var entry in entries)
        {
            await importer.StartRowAsync(ct);
            for (var i = 0; i < columns.Length; i++)
            {
                if (columns[i].ProviderValue(entry) is { } value)
                {
                    await importer.WriteAsync(value, types[i], ct);
                }
                else
                {
                    await importer.WriteNullAsync(ct);
                }
            }
        }

        await importer.CompleteAsync(ct);
    }

    /// <summary>The wire type of a column in a binary COPY; a new column type must be added here (the tests would fail first).</summary>
    private static NpgsqlDbType CopyType(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(Guid) ? NpgsqlDbType.Uuid
            : t == typeof(string) ? NpgsqlDbType.Varchar
            : t == typeof(DateTimeOffset) ? NpgsqlDbType.TimestampTz
            : t == typeof(int) ? NpgsqlDbType.Integer
            : t == typeof(long) ? NpgsqlDbType.Bigint
            : throw new NotSupportedException($"No COPY type for a {t.Name} column of the transaction log.");
    }

    private static async Task InsertAsync(PortalDbContext db, string table, Column[] columns, IReadOnlyList<TransactionLogEntry> entries, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = transaction.GetDbTransaction();
        command.CommandText = $"INSERT INTO \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c.Name}\""))}) VALUES ({string.Join(", ", columns.Select((_, i) => $"@p{i}"))})";
        // The model's mappings make the parameters (a Guid as TEXT, a DateTimeOffset as its binary form), as EF Core would.
        var parameters = new DbParameter[columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            parameters[i] = columns[i].Mapping.CreateParameter(command, $"@p{i}", null, nullable: true);
            command.Parameters.Add(parameters[i]);
        }

        await command.PrepareAsync(ct);
        foreach (var entry in entries)
        {
            for (var i = 0; i < columns.Length; i++)
            {
                parameters[i].Value = columns[i].ProviderValue(entry) ?? DBNull.Value;
            }

            await command.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }
}
