using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Transaction logs: an index on the TLS server name, which the host filter matches as it matches the host.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261211000000_TransactionLogSniIndex")]
public sealed class M0011_TransactionLogSniIndex : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0011_TransactionLogSniIndex";
}
