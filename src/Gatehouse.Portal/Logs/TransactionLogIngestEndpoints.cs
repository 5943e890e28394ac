using Gatehouse.Portal.Api;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Portal.Logs;

/// <summary>
/// <c>POST /edge/logs</c>: an edge ships a batch of transaction log records with its client certificate.
/// <code>
/// edge certificate (device, connector: 403) ─► JSON batch (≤ 8 MiB) ─► every record checked (400 records[i].field, nothing stored)
///   ─► rows under the certificate's tenant and edge ─► one bulk write (COPY, or one transaction) ─► 202 {accepted}
/// </code>
/// </summary>
internal static class TransactionLogIngestEndpoints
{
    /// <summary>
    /// The largest batch body: 1,000 records with long URLs do not fit the API's usual 1 MiB, and a batch
    /// refused for its size would never get through.
    /// </summary>
    public const long MaxBodyBytes = 8 * 1024 * 1024;

    public static RouteGroupBuilder MapTransactionLogIngest(this RouteGroupBuilder api)
    {
        // The wire names the full path (/api/v1/edge/logs); the group adds /api/v1.
        api.MapPost(TransactionLogBatch.Path[Wire.WireVersion.ApiPrefix.Length..], IngestAsync)
            .RequireAuthorization(CertificateAuthenticationHandler.EdgePolicy)
            .WithMetadata(new BodySizeLimit(MaxBodyBytes))
            .WithTags("logs");
        return api;
    }

    private static async Task<IResult> IngestAsync(TransactionLogBatch batch, CertificateCaller caller, PortalDbContext db, TimeProvider time, PortalMetrics metrics, CancellationToken ct)
    {
        var entries = TransactionLogValidator.ToEntries(batch, caller.TenantId, caller.SubjectId, time.GetUtcNow());
        await TransactionLogWriter.WriteAsync(db, entries, ct);

        metrics.LogRecordsStored(entries.Count);
        return Results.Accepted(value: new TransactionLogBatchResult(entries.Count));
    }
}
