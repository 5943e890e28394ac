using System.Diagnostics;
using Npgsql;

namespace Gatehouse.Bench.Portal;

/// <summary>Puts many device rows straight into PostgreSQL, and reads them back the way the portal pages them.</summary>
internal static partial class DeviceSeeder
{
    public static async Task SeedAsync(string connectionString, Guid tenantId, int count)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var writer = await connection.BeginBinaryImportAsync(DeviceCopyCommand);
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            await WriteDeviceRowAsync(writer, tenantId, i, now);
        }

        await writer.CompleteAsync();
    }

    /// <summary>The portal's keyset query, run directly: the floor any API can reach.</summary>
    public static async Task<List<double>> WalkDirectlyAsync(string connectionString, Guid tenantId, int limit)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var latencies = new List<double>();
        Guid? after = null;
        while (true)
        {
            var started = Stopwatch.GetTimestamp();
            await using var command = new NpgsqlCommand(DirectPageQuery(after is not null), connection);
            command.Parameters.AddWithValue("tenant", tenantId);
            command.Parameters.AddWithValue("limit", limit + 1);
            if (after is { } cursor)
            {
                command.Parameters.AddWithValue("after", cursor);
            }

            var ids = new List<Guid>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    ids.Add(reader.GetGuid(0));
                    for (var field = 1; field < reader.FieldCount; field++)
                    {
                        _ = reader.GetValue(field);
                    }
                }
            }

            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (ids.Count <= limit)
            {
                return latencies;
            }

            after = ids[limit - 1];
        }
    }
}
