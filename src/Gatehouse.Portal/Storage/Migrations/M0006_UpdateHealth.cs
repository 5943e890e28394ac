using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Rollouts for chosen groups; heartbeats with restarts by role and tunnel results.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261206000000_UpdateHealth")]
public sealed class M0006_UpdateHealth : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0006_UpdateHealth";
}
