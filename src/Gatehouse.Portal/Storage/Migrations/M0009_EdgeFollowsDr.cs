using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>Edges: whether an edge follows the DR bundle, so that agents never get a DR edge as an everyday one.</summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261209000000_EdgeFollowsDr")]
public sealed class M0009_EdgeFollowsDr : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0009_EdgeFollowsDr";
}
