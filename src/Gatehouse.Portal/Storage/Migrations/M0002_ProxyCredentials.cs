using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Users' credentials for the agentless forward proxy (only the SHA-256 of each password).</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261122000000_ProxyCredentials")]
public sealed class M0002_ProxyCredentials : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0002_ProxyCredentials";
}
