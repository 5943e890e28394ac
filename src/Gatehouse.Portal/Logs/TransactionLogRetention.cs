using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Storage;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Logs;

/// <summary>
/// Deletes transaction log records older than <see cref="PortalOptions.LogRetentionDays"/>: once at start,
/// then every <see cref="Interval"/>. Each sweep deletes tenant by tenant, over the (tenant, time) index, in batches.
/// A retention of 0 or less keeps records for ever.
/// </summary>
public sealed class TransactionLogRetention(IServiceScopeFactory scopes, PortalOptions options, TimeProvider time, PortalMetrics metrics, ILogger<TransactionLogRetention> logger)
    : BackgroundService
{
    /// <summary>How often the sweep runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>
    /// The most records one statement deletes. Each statement holds SQLite's one write lock, which the edges' log
    /// batches wait for: a million records in one statement took 13 s (2026-12-07), as a first sweep after the
    /// retention was shortened, or after the portal was down for days, would ask.
    /// </summary>
    internal int BatchSize { get; set; } = 10_000;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.LogRetentionDays <= 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogsLog.SweepFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Deletes every record older than the retention now; returns how many went.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        if (options.LogRetentionDays <= 0)
        {
            return 0;
        }

        var cutoff = time.GetUtcNow() - TimeSpan.FromDays(options.LogRetentionDays);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var tenants = await db.Tenants.AsNoTracking().Select(t => t.Id).ToListAsync(cancellationToken);
        var deleted = 0;
        foreach (var tenant in tenants)
        {
            // ExecuteDelete, not SaveChanges: no rows in memory, and expiry is no config change to publish. Oldest
            // first, along the (tenant, time) index, a batch at a time.
            int batch;
            do
            {
                batch = await db.Set<TransactionLogEntry>().IgnoreQueryFilters()
                    .Where(e => e.TenantId == tenant && e.Time < cutoff)
                    .OrderBy(e => e.Time)
                    .Take(BatchSize)
                    .ExecuteDeleteAsync(cancellationToken);
                deleted += batch;
            }
            while (batch == BatchSize);
        }

        if (deleted > 0)
        {
            LogsLog.Swept(logger, deleted, cutoff);
            metrics.LogRecordsExpired(deleted);
        }

        return deleted;
    }
}
