using Gatehouse.Testing;
using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Logs;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Logs;

public sealed class TransactionLogRetentionTests
{
    [Fact]
    public async Task Sweep_deletes_records_older_than_the_retention_by_the_portals_clock()
    {
        var clock = new MovableClock();
        await using var portal = await WithRecordsAsync(clock, null, (40, "forty-days"), (1, "yesterday"), (0, "now"));

        var retention = portal.Services.GetRequiredService<TransactionLogRetention>();
        Assert.Equal(1, await retention.SweepAsync(CancellationToken.None));
        Assert.Equal(["now", "yesterday"], await StoredAsync(portal));

        // 29.5 days on: "yesterday" is 30.5 days old and goes; "now" is 29.5 days old and stays.
        clock.Advance(TimeSpan.FromDays(29.5));
        Assert.Equal(1, await retention.SweepAsync(CancellationToken.None));
        Assert.Equal(["now"], await StoredAsync(portal));
        Assert.Equal(0, await retention.SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_sweep_deletes_in_batches_until_nothing_old_is_left()
    {
        // One statement deleted every expired record, holding SQLite's write lock (and the edges' batches) throughout;
        // a guard that the batches go on until nothing old is left.
        var clock = new MovableClock();
        await using var portal = await WithRecordsAsync(clock, null,
            [.. Enumerable.Range(0, 7).Select(i => (40 - (i / 1440.0), $"old-{i}")), (1, "yesterday")]);

        // Three batches: 3, 3 and 1, the last one short.
        var retention = portal.Services.GetRequiredService<TransactionLogRetention>();
        retention.BatchSize = 3;
        Assert.Equal(7, await retention.SweepAsync(CancellationToken.None));
        Assert.Equal(["yesterday"], await StoredAsync(portal));

        // A batch that comes out exactly full is followed by one that finds nothing.
        clock.Advance(TimeSpan.FromDays(30));
        retention.BatchSize = 1;
        Assert.Equal(1, await retention.SweepAsync(CancellationToken.None));
        Assert.Empty(await StoredAsync(portal));
    }

    [Fact]
    public async Task A_retention_of_zero_keeps_records_for_ever()
    {
        var clock = new MovableClock();
        await using var portal = await WithRecordsAsync(clock, o => o.LogRetentionDays = 0, (400, "old"));

        clock.Advance(TimeSpan.FromDays(400));
        Assert.Equal(0, await portal.Services.GetRequiredService<TransactionLogRetention>().SweepAsync(CancellationToken.None));
        Assert.Equal(["old"], await StoredAsync(portal));
    }

    /// <summary>A portal on <paramref name="clock"/> holding one record for each of <paramref name="records"/>, sent by an edge enrolled at it.</summary>
    /// <param name="clock">The portal's clock.</param>
    /// <param name="configure">Changes the portal's options.</param>
    /// <param name="records">Each record's age in days by <paramref name="clock"/>, and its reference id.</param>
    private static async Task<PortalServer> WithRecordsAsync(MovableClock clock, Action<PortalOptions>? configure, params (double DaysAgo, string Name)[] records)
    {
        var portal = await PortalServer.StartAsync(configure: configure, time: clock);
        try
        {
            var now = clock.GetUtcNow();
            using var admin = await portal.SignInAsync();
            using var edge = await Enrollee.EnrollEdgeAsync(portal, await Enrollee.CreateProvisioningKeyAsync(admin, ProvisioningKinds.Edge));
            await EdgeLogs.PostAcceptedAsync(portal, edge, [.. records.Select(r => EdgeLogs.Record(edge, now.AddDays(-r.DaysAgo)) with { ReferenceId = r.Name })]);
            return portal;
        }
        catch
        {
            await portal.DisposeAsync();
            throw;
        }
    }

    /// <summary>The reference ids of every stored record, newest first, read straight from the database.</summary>
    private static async Task<List<string>> StoredAsync(PortalServer portal)
    {
        using var scope = portal.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var rows = await db.Set<TransactionLogEntry>().IgnoreQueryFilters().Select(e => new { e.Id, e.ReferenceId }).ToListAsync();
        return rows.OrderByDescending(r => r.Id.ToString()).Select(r => r.ReferenceId!).ToList();
    }
}
