using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Transaction logs: the TLS server name (SNI) a CONNECT or tunnel flow's client sent, as edges now record it.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261210000000_TransactionLogSni")]
public sealed class M0010_TransactionLogSni : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0010_TransactionLogSni";
}
