using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>The first schema: tenants, admins, users, devices, enrollment, policy objects, config bundles, audit.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261121000000_Initial")]
public sealed class M0001_Initial : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0001_Initial";
}
