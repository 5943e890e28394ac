using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Bench.Portal;

/// <summary>The portal's <c>Devices</c> table as the benchmark writes and reads it.</summary>
internal static partial class DeviceSeeder
{
    private const string DeviceCopyCommand =
        """
        COPY "Devices" ("Id", "TenantId", "Name", "Os", "AgentVersion", "Status", "CertificateSerial", "CertificateThumbprint", "CertificateNotAfter", "EnrolledAt")
        FROM STDIN (FORMAT BINARY)
        """;

    private static async Task WriteDeviceRowAsync(NpgsqlBinaryImporter writer, Guid tenantId, int index, DateTimeOffset now)
    {
        await writer.StartRowAsync();
        await writer.WriteAsync(Guid.CreateVersion7(now.AddMilliseconds(index)), NpgsqlDbType.Uuid);
        await writer.WriteAsync(tenantId, NpgsqlDbType.Uuid);
        await writer.WriteAsync($"seeded-device-{index}", NpgsqlDbType.Text);
        await writer.WriteAsync("linux", NpgsqlDbType.Text);
        await writer.WriteAsync("1.0.0", NpgsqlDbType.Text);
        await writer.WriteAsync("active", NpgsqlDbType.Text);
        await writer.WriteAsync($"{index:x32}", NpgsqlDbType.Text);
        await writer.WriteAsync($"{index:x64}", NpgsqlDbType.Text);
        await writer.WriteAsync(now.AddDays(30).UtcDateTime, NpgsqlDbType.TimestampTz);
        await writer.WriteAsync(now.UtcDateTime, NpgsqlDbType.TimestampTz);
    }

    private static string DirectPageQuery(bool withCursor) =>
        $"""
        SELECT d."Id", d."Name", d."Os", d."AgentVersion", d."Status", d."CertificateSerial", d."CertificateNotAfter", d."EnrolledAt", u."Email"
        FROM "Devices" d LEFT JOIN "Users" u ON u."Id" = d."UserId"
        WHERE d."TenantId" = @tenant {(withCursor ? "AND d.\"Id\" > @after" : "")}
        ORDER BY d."Id" LIMIT @limit
        """;
}
