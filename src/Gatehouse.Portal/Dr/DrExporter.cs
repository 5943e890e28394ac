using Gatehouse.Portal.Config;
using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust;
using Gatehouse.Wire.Config;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Dr;

/// <summary>
/// Writes the signed DR bundle of every tenant with DR settings to
/// <see cref="PortalOptions.DrExportDirectory"/> every <see cref="PortalOptions.DrExportSeconds"/>,
/// as <c>TENANT.dr-bundle.json</c>, atomically and only when it changed: a copy the customer ships to
/// its DR edges (<c>gatehouse-edge run --dr-bundle</c>) is never older than that interval. The file of a
/// tenant that no longer has DR settings (<c>gatehouse dr delete</c>) is removed.
/// </summary>
internal sealed class DrExporter(IServiceScopeFactory scopes, ConfigPublisher publisher, PortalOptions options, TimeProvider time, ILogger<DrExporter> logger) : BackgroundService
{
    private const string FileSuffix = ".dr-bundle.json";
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Writes every tenant's DR bundle that changed since the last pass; returns how many were written.</summary>
    public async Task<int> ExportAsync(CancellationToken ct)
    {
        var directory = options.DrExportDirectory ?? throw new InvalidOperationException("no DR export directory is configured");
        Directory.CreateDirectory(directory);
        List<Guid> tenants;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            tenants = await db.Set<DrSettings>().IgnoreQueryFilters().AsNoTracking().Select(s => s.TenantId).ToListAsync(ct);
        }

        var written = 0;
        foreach (var tenant in tenants)
        {
            if (await publisher.CurrentAsync(tenant, BundleConsumers.Dr, PublishTimeout, ct) is not { } bundle)
            {
                continue;
            }

            var path = Path.Combine(directory, $"{tenant:D}{FileSuffix}");
            if (File.Exists(path) && (await File.ReadAllBytesAsync(path, ct)).AsSpan().SequenceEqual(bundle.Document))
            {
                continue;
            }

            // Owner-only: the bundle lists the tenant's users and devices and its proxy credentials' hashes.
            OwnerOnlyFile.WriteAtomically(path, bundle.Document, overwrite: true);
            DrLog.Exported(logger, tenant, bundle.Version, path);
            written++;
        }

        RemoveUnset(directory, [.. tenants]);
        return written;
    }

    /// <summary>Removes the DR bundles of tenants that have no DR settings (any more).</summary>
    private void RemoveUnset(string directory, HashSet<Guid> withSettings)
    {
        foreach (var path in Directory.EnumerateFiles(directory, "*" + FileSuffix))
        {
            var name = Path.GetFileName(path);
            if (Guid.TryParseExact(name[..^FileSuffix.Length], "D", out var tenant) && !withSettings.Contains(tenant))
            {
                File.Delete(path);
                DrLog.Removed(logger, tenant, path);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.DrExportDirectory is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.DrExportSeconds)), time);
        do
        {
            try
            {
                await ExportAsync(stoppingToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DbUpdateException or InvalidOperationException)
            {
                DrLog.ExportFailed(logger, options.DrExportDirectory, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

/// <summary>Log messages of disaster recovery (event ids 1620–1629).</summary>
internal static partial class DrLog
{
    [LoggerMessage(1620, LogLevel.Information, "DR bundle version {Version} of tenant {TenantId} written to {Path}")]
    public static partial void Exported(ILogger logger, Guid tenantId, long version, string path);

    [LoggerMessage(1621, LogLevel.Error, "Writing DR bundles to {Directory} failed; trying again at the next interval")]
    public static partial void ExportFailed(ILogger logger, string directory, Exception exception);

    [LoggerMessage(1622, LogLevel.Information, "DR bundle of tenant {TenantId} removed from {Path}: the tenant has no DR settings any more")]
    public static partial void Removed(ILogger logger, Guid tenantId, string path);
}
