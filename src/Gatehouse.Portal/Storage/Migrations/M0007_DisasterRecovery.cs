using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Disaster recovery: the DR settings of each tenant.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261207000000_DisasterRecovery")]
public sealed class M0007_DisasterRecovery : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0007_DisasterRecovery";
}
