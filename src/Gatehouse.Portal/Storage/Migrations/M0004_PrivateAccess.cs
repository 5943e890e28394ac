using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Private access: the access policy, server groups and their segments, and connectors' health reports.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261204000000_PrivateAccess")]
public sealed class M0004_PrivateAccess : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0004_PrivateAccess";
}
