using Gatehouse.Portal.Api;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Portal.Logs;

/// <summary>
/// <c>POST /edge/logs</c>: an edge ships a batch of transaction log records with its client certificate.
/// <code>
/// edge certificate (device, connector: 403) ─► JSON batch (≤ 8 MiB; no records or too many: 400, nothing stored)
///   ─► any record of another tenant or edge: 400 records[i].tenantId|edgeId, nothing stored
///   ─► each record checked alone: a bad field refuses that record (counted, logged)
///        no record valid: 400 with the first record's problem, nothing stored
///   ─► the valid records as rows under the certificate's tenant and edge, in order
///   ─► one bulk write (COPY, or one transaction) ─► 202 {accepted, refused, problems (the first 10)}
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

    private static async Task<IResult> IngestAsync(
        TransactionLogBatch batch, CertificateCaller caller, PortalDbContext db, TimeProvider time, PortalMetrics metrics, ILogger<TransactionLogBatch> logger, CancellationToken ct)
    {
        var (entries, refused, problems) = TransactionLogValidator.Check(batch, caller.TenantId, caller.SubjectId, time.GetUtcNow());
        if (refused > 0)
        {
            var first = problems[0];
            metrics.LogRecordsRefused(refused);
            LogsLog.RecordsRefused(logger, caller.SubjectId, refused, batch.Records.Count, first.Field, first.Detail);
            if (entries.Count == 0)
            {
                // A 202 that stored nothing would read as success to whoever posted the batch.
                throw PortalException.Invalid(first.Field, first.Detail);
            }
        }

        await TransactionLogWriter.WriteAsync(db, entries, ct);

        metrics.LogRecordsStored(entries.Count);
        return Results.Accepted(value: new TransactionLogBatchResult(entries.Count, refused, problems));
    }
}
