using Gatehouse.Portal.Logs;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Logs;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Tests.Logs;

/// <summary>
/// How SQLite plans the host filter on a migrated database that has never been analysed, as a portal's is. The plan
/// does not depend on how many rows there are, so an empty table shows what a large one gets.
/// </summary>
public sealed class TransactionLogHostPlanTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-host-plan-test-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task An_exact_host_is_looked_up_in_the_host_and_server_name_indexes_in_page_order()
    {
        var plan = await PlanAsync(new TransactionHostFilter("www.example.com", IsDomain: false));

        // Host = h OR Sni = h was planned as a walk through every record of the tenant (IX_TransactionLogs_TenantId_Id).
        Assert.Contains("SEARCH t USING INDEX IX_TransactionLogs_TenantId_Host_Id (TenantId=? AND Host=? AND Id<?)", plan);
        Assert.Contains("SEARCH t0 USING INDEX IX_TransactionLogs_TenantId_Sni_Id (TenantId=? AND Sni=? AND Id<?)", plan);
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    private async Task<List<string>> PlanAsync(TransactionHostFilter filter)
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

        // A second page, as the listing asks for it: newest first, after a cursor.
        var cursor = Guid.CreateVersion7();
        var page = db.Set<TransactionLogEntry>().WhereHost(filter).Where(e => e.Id.CompareTo(cursor) < 0).OrderByDescending(e => e.Id).Take(101);
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
