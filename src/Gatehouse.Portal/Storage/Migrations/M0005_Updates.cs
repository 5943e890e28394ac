using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Safe updates: rollouts and the update events devices report.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261205000000_Updates")]
public sealed class M0005_Updates : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0005_Updates";
}
