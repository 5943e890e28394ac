using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Transaction log records shipped by edges, with the indexes that the listing's filters and the retention sweep use.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261122000001_TransactionLogs")]
public sealed class M0003_TransactionLogs : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0003_TransactionLogs";
}
