using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Enrollment;
using Gatehouse.Wire.Logs;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Bench.Portal;

/// <summary>
/// An edge ships full batches (1,000 records) to <c>POST /api/v1/edge/logs</c>, one after another, as an
/// edge catching up would. Per batch: the portal's latency and CPU. The peer, on PostgreSQL, is a binary
/// COPY of the same 1,000 rows straight into the same table: the floor of any insert path.
/// </summary>
internal static class LogIngestRound
{
    private const int Warmup = 3;

    public static async Task RunAsync(PortalProcess portal, AdminClient admin, X509Certificate2 portalCertificate, string? postgres, int batches)
    {
        using var edge = await EnrollEdgeAsync(admin, portal.Address, portalCertificate);
        var tenantId = await admin.TenantIdAsync();
        var latencies = new List<double>();
        var cpuBefore = TimeSpan.Zero;
        var started = Stopwatch.StartNew();
        for (var i = -Warmup; i < batches; i++)
        {
            if (i == 0)
            {
                cpuBefore = portal.CpuTime();
                started.Restart();
            }

            var batch = Batch(tenantId, edge.Id, i);
            var sent = Stopwatch.GetTimestamp();
            using var response = await edge.Http.PostAsJsonAsync(TransactionLogBatch.Path, batch);
            var elapsed = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"The portal refused a batch: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            if (i >= 0)
            {
                latencies.Add(elapsed);
            }
        }

        var wall = started.Elapsed;
        var cpu = portal.CpuTime() - cpuBefore;
        var records = batches * TransactionLogBatch.MaxRecords;
        var engine = postgres is null ? "sqlite" : "postgresql";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"log ingest ({engine}), {batches:N0} batches of {TransactionLogBatch.MaxRecords:N0}: portal p50 {Percentiles.Of(latencies, 50):F1} ms, p99 {Percentiles.Of(latencies, 99):F1} ms per batch; {records / wall.TotalSeconds:N0} records/s; portal CPU {cpu.TotalMilliseconds / batches:F1} ms per batch"));

        if (postgres is not null)
        {
            var direct = new List<double>();
            for (var i = -Warmup; i < batches; i++)
            {
                var batch = Batch(tenantId, edge.Id, batches + i);
                var copied = Stopwatch.GetTimestamp();
                await CopyAsync(postgres, tenantId, edge.Id, batch);
                if (i >= 0)
                {
                    direct.Add(Stopwatch.GetElapsedTime(copied).TotalMilliseconds);
                }
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"log ingest, direct binary COPY of the same batches: p50 {Percentiles.Of(direct, 50):F1} ms, p99 {Percentiles.Of(direct, 99):F1} ms; portal/copy p50 ratio {Percentiles.Of(latencies, 50) / Percentiles.Of(direct, 50):F1}"));
        }
    }

    /// <summary>1,000 records of one edge's busy second: mostly CONNECT flows, some plain-HTTP requests with URLs.</summary>
    private static TransactionLogBatch Batch(Guid tenantId, Guid edgeId, int number)
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        var records = new TransactionLogRecord[TransactionLogBatch.MaxRecords];
        for (var i = 0; i < records.Length; i++)
        {
            var http = i % 5 == 0;
            var user = i % 50;
            records[i] = new TransactionLogRecord(
                start.AddTicks((long)number * 10_000_000 + i * 10_000),
                tenantId.ToString(),
                edgeId.ToString(),
                http ? TransactionKinds.Http : TransactionKinds.Flow,
                i % 3 == 0 ? TransactionListeners.Tunnel : TransactionListeners.Proxy,
                i % 17 == 0 ? TransactionActions.Block : TransactionActions.Allow,
                $"10.0.{user}.{i % 250}:{40000 + i}",
                $"host{i % 200}.example{i % 7}.com",
                http ? 80 : 443,
                UserId: Guid.CreateVersion7(start.AddSeconds(user)).ToString(),
                UserEmail: $"user{user}@example.com",
                DestinationIp: $"93.184.{i % 250}.{user}",
                Method: http ? "GET" : "CONNECT",
                Url: http ? $"http://host{i % 200}.example{i % 7}.com/path/to/page-{i}.html?q={number}" : null,
                Status: http ? 200 : null,
                Category: i % 17 == 0 ? "gambling" : null,
                Rule: i % 17 == 0 ? "block-gambling" : null,
                BytesUp: 800 + i,
                BytesDown: 40_000 + (i * 13),
                DurationMs: 20 + (i % 300));
        }

        return new TransactionLogBatch(records);
    }

    private sealed record EnrolledEdge(Guid Id, HttpClient Http) : IDisposable
    {
        public void Dispose() => Http.Dispose();
    }

    private static async Task<EnrolledEdge> EnrollEdgeAsync(AdminClient admin, Uri portal, X509Certificate2 portalCertificate)
    {
        var keyResponse = await admin.Http.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("bench-edge", ProvisioningKinds.Edge, null, 1, 1));
        var provisioningKey = (await keyResponse.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>())!.Key;
        using var key = CertificateSigningRequests.CreateKey();
        using var enroller = new HttpClient(AdminClient.Trusting(portalCertificate)) { BaseAddress = new Uri(portal, "/api/v1/") };
        var enrolled = await (await enroller.PostAsJsonAsync("enroll/edge", new ServiceEnrollRequest(provisioningKey, CertificateSigningRequests.Create(key, "bench-edge"), "bench-edge", "bench-edge.example:7444")))
            .EnsureSuccessStatusCode().Content.ReadFromJsonAsync<EnrollResponse>();
        using var certificate = X509Certificate2.CreateFromPem(enrolled!.CertificatePem).CopyWithPrivateKey(key);
        var handler = AdminClient.Trusting(portalCertificate);
        handler.SslOptions.ClientCertificates = [X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null)];
        return new EnrolledEdge(enrolled.SubjectId, new HttpClient(handler) { BaseAddress = portal, Timeout = TimeSpan.FromSeconds(60) });
    }

    private static async Task CopyAsync(string postgres, Guid tenantId, Guid edgeId, TransactionLogBatch batch)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var writer = await connection.BeginBinaryImportAsync(
            """
            COPY "TransactionLogs" ("Id", "TenantId", "EdgeId", "Time", "Kind", "Listener", "Action", "ClientAddress", "Host", "Port",
                "UserId", "UserEmail", "DeviceId", "DestinationIp", "Method", "Url", "Status", "Category", "Rule", "Reason", "ReferenceId",
                "BytesUp", "BytesDown", "DurationMs")
            FROM STDIN (FORMAT BINARY)
            """);
        foreach (var r in batch.Records)
        {
            await writer.StartRowAsync();
            await writer.WriteAsync(Guid.CreateVersion7(r.Time), NpgsqlDbType.Uuid);
            await writer.WriteAsync(tenantId, NpgsqlDbType.Uuid);
            await writer.WriteAsync(edgeId, NpgsqlDbType.Uuid);
            await writer.WriteAsync(r.Time.UtcDateTime, NpgsqlDbType.TimestampTz);
            await writer.WriteAsync(r.Kind, NpgsqlDbType.Varchar);
            await writer.WriteAsync(r.Listener, NpgsqlDbType.Varchar);
            await writer.WriteAsync(r.Action, NpgsqlDbType.Varchar);
            await writer.WriteAsync(r.ClientAddress, NpgsqlDbType.Varchar);
            await writer.WriteAsync(r.Host, NpgsqlDbType.Varchar);
            await writer.WriteAsync(r.Port, NpgsqlDbType.Integer);
            await WriteOrNullAsync(writer, r.UserId is null ? null : Guid.Parse(r.UserId), NpgsqlDbType.Uuid);
            await WriteOrNullAsync(writer, r.UserEmail, NpgsqlDbType.Varchar);
            await WriteOrNullAsync(writer, r.DeviceId is null ? null : Guid.Parse(r.DeviceId), NpgsqlDbType.Uuid);
            await WriteOrNullAsync(writer, r.DestinationIp, NpgsqlDbType.Varchar);
            await WriteOrNullAsync(writer, r.Method, NpgsqlDbType.Varchar);
            await WriteOrNullAsync(writer, r.Url, NpgsqlDbType.Varchar);
            await WriteOrNullAsync(writer, r.Status, NpgsqlDbType.Integer);
            await WriteOrNullAsync(writer, r.Category, NpgsqlDbType.Varchar);
            await WriteOrNullAsync(writer, r.Rule, NpgsqlDbType.Varchar);
            await WriteOrNullAsync(writer, r.Reason, NpgsqlDbType.Varchar);
            await WriteOrNullAsync(writer, r.ReferenceId, NpgsqlDbType.Varchar);
            await writer.WriteAsync(r.BytesUp, NpgsqlDbType.Bigint);
            await writer.WriteAsync(r.BytesDown, NpgsqlDbType.Bigint);
            await writer.WriteAsync(r.DurationMs, NpgsqlDbType.Bigint);
        }

        await writer.CompleteAsync();
    }

    private static async Task WriteOrNullAsync(NpgsqlBinaryImporter writer, object? value, NpgsqlDbType type)
    {
        if (value is null)
        {
            await writer.WriteNullAsync();
        }
        else
        {
            await writer.WriteAsync(value, type);
        }
    }
}
