using Gatehouse.Portal.Logs;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Logs;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Tests.Logs;

/// <summary>
/// How SQLite plans the listing's filters on a migrated database that has never been analysed, as a portal's is. The plan
/// does not depend on how many rows there are, so an empty table shows what a large one gets.
/// </summary>
public sealed class TransactionLogPlanTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-log-plan-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task An_exact_host_is_looked_up_in_the_host_and_server_name_indexes_in_page_order()
    {
        var plan = await PlanAsync(q => q.WhereHost(new TransactionHostFilter("www.example.com", IsDomain: false)));

        // Host = h OR Sni = h was planned as a walk through every record of the tenant (IX_TransactionLogs_TenantId_Id).
        Assert.Contains("SEARCH t USING INDEX IX_TransactionLogs_TenantId_Host_Id (TenantId=? AND Host=? AND Id<?)", plan);
        Assert.Contains("SEARCH t0 USING INDEX IX_TransactionLogs_TenantId_Sni_Id (TenantId=? AND Sni=? AND Id<?)", plan);
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true, false, false)]
    [InlineData(true, true, false)]
    [InlineData(false, true, false)]
    [InlineData(true, true, true)]
    public async Task A_time_range_is_walked_in_the_id_index_newest_first_not_sorted(bool from, bool to, bool afterCursor)
    {
        var now = DateTimeOffset.UtcNow;
        var plan = await PlanAsync(q => q.WhereTime(from ? now.AddHours(-1) : null, to ? now : null, afterCursor), afterCursor);

        // Time >= @from was planned on the index on time, with every record of the range sorted for one page (TEMP B-TREE).
        Assert.True(plan.Any(step => step.StartsWith("SEARCH t USING INDEX IX_TransactionLogs_TenantId_Id (TenantId=? AND Id", StringComparison.Ordinal)), string.Join('\n', plan));
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("user", false)]
    [InlineData("user", true)]
    [InlineData("action", true)]
    [InlineData("host", false)]
    [InlineData("host", true)]
    public async Task A_time_range_with_a_filter_is_walked_newest_first_not_sorted(string filter, bool afterCursor)
    {
        var now = DateTimeOffset.UtcNow;
        var plan = await PlanAsync(
            q =>
            {
                var inRange = q.WhereTime(now.AddDays(-1), now, afterCursor);
                return filter switch
                {
                    "user" => inRange.Where(e => e.UserEmail == "ana@example.test"),
                    "action" => inRange.Where(e => e.Action == TransactionActions.Block),
                    _ => inRange.WhereHost(new TransactionHostFilter("www.example.com", IsDomain: false)),
                };
            },
            afterCursor);

        // With a user, this was the index on time and every record of the range sorted: now SQLite (without statistics,
        // which do not tell it how few records a user has) walks the range newest first and stops after a page.
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal) || step.Contains("_Time", StringComparison.Ordinal));
        Assert.All(plan.Where(step => step.StartsWith("SEARCH", StringComparison.Ordinal)), step => Assert.Contains(" AND Id>? AND Id<?)", step, StringComparison.Ordinal));
    }

    /// <summary>The plan of a page of the listing, a later one (after a cursor) unless <paramref name="afterCursor"/> is false.</summary>
    private async Task<List<string>> PlanAsync(Func<IQueryable<TransactionLogEntry>, IQueryable<TransactionLogEntry>> filter, bool afterCursor = true)
    {
        var options = new StorageOptions { DataDirectory = _root };
        await using (var migrate = StorageServiceCollectionExtensions.OpenContext(options))
        {
            await migrate.Database.MigrateAsync();
        }

        var builder = new DbContextOptionsBuilder<PortalDbContext>();
        StorageServiceCollectionExtensions.Configure(builder, options);
        var scope = new TenantScope();
        scope.Enter(Guid.NewGuid());
        await using var db = new PortalDbContext(builder.Options, scope);

        // A page as the listing asks for it: newest first, the second and later after a cursor.
        var cursor = Guid.CreateVersion7();
        var records = filter(db.Set<TransactionLogEntry>());
        var page = (afterCursor ? records.Where(e => e.Id.CompareTo(cursor) < 0) : records).OrderByDescending(e => e.Id).Take(101);
        await using var command = page.CreateDbCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        await db.Database.OpenConnectionAsync();
        await using var reader = await command.ExecuteReaderAsync();
        var plan = new List<string>();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }
}
