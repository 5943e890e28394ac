using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Gatehouse.Portal.Storage.Migrations;

/// <summary>
/// Rollouts: a revision that makes concurrent changes of one rollout fail, and at most one running or paused rollout
/// per tenant and channel (older ones that were active beside a newer one, which the portal allowed before, are halted).
/// </summary>
[DbContext(typeof(PortalDbContext))]
[Migration("20261208000000_RolloutRevision")]
public sealed class M0008_RolloutRevision : SqlMigration
{
    /// <inheritdoc />
    protected override string ScriptName => "0008_RolloutRevision";
}
