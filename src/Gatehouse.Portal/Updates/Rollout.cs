using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Updates;

/// <summary>A rollout of one version of a channel to one tenant, and where it stands.</summary>
public sealed class Rollout : ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <inheritdoc/>
    public Guid TenantId { get; set; }

    /// <summary>The channel.</summary>
    public required string Channel { get; set; }

    /// <summary>The version rolled out.</summary>
    public required string Version { get; set; }

    /// <summary>The version devices go back to (the last completed rollout's), if any.</summary>
    public string? BaselineVersion { get; set; }

    /// <summary>One of <see cref="RolloutPlans"/>.</summary>
    public required string Plan { get; set; }

    /// <summary>Days of a slow roll.</summary>
    public int Days { get; set; }

    /// <summary>Every stage's bake time in minutes, when the plan's default is overridden.</summary>
    public int? BakeMinutes { get; set; }

    /// <summary>Every stage's minimum of reporting devices, when the plan's default is overridden.</summary>
    public int? MinDevices { get; set; }

    /// <summary>The canary ring's share, when the plan's 1% is overridden.</summary>
    public int? CanaryBasisPoints { get; set; }

    /// <summary>Groups that go first.</summary>
    public List<Guid> InternalGroupIds { get; set; } = [];

    /// <summary>The groups the rollout is for (a slow roll for chosen groups); empty: the whole tenant.</summary>
    public List<Guid> AudienceGroupIds { get; set; } = [];

    /// <summary>Groups kept on a version (resolved at creation).</summary>
    public Dictionary<Guid, string> Pins { get; set; } = [];

    /// <summary>Groups held back until a time.</summary>
    public Dictionary<Guid, DateTimeOffset> Deferrals { get; set; } = [];

    /// <summary>The current stage.</summary>
    public int StageIndex { get; set; }

    /// <summary>running, paused, halted or completed.</summary>
    public required string Status { get; set; }

    /// <summary>When the current stage began or was resumed.</summary>
    public DateTimeOffset StageStartedAt { get; set; }

    /// <summary>Why it paused or halted.</summary>
    public string? Reason { get; set; }

    /// <summary>What its devices reported at the last evaluation.</summary>
    public RolloutHealthDto? Health { get; set; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When its state last changed.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// Counts the changes of its state: a change saved from an older read fails (409), so that a halt, a pause and
    /// the supervisor's own decision made at the same time never silently undo one another.
    /// </summary>
    public int Revision { get; set; }
}

/// <summary>One update event a device reported.</summary>
public sealed class UpdateReport : ITenantOwned
{
    /// <summary>Stable id (time-ordered).</summary>
    public Guid Id { get; set; }

    /// <inheritdoc/>
    public Guid TenantId { get; set; }

    /// <summary>The device.</summary>
    public Guid DeviceId { get; set; }

    /// <summary>The channel.</summary>
    public required string Channel { get; set; }

    /// <summary>The version the event is about.</summary>
    public required string Version { get; set; }

    /// <summary>One of <see cref="Wire.Updates.UpdateEvents"/>.</summary>
    public required string Event { get; set; }

    /// <summary>Role restarts since the last report.</summary>
    public int Restarts { get; set; }

    /// <summary>Why, for failures.</summary>
    public string? Detail { get; set; }

    /// <summary>The restarts by role, for heartbeats that say.</summary>
    public Dictionary<string, int>? RoleRestarts { get; set; }

    /// <summary>Flows an edge answered since the device's last report.</summary>
    public int TunnelsOpened { get; set; }

    /// <summary>Flows no edge answered since the device's last report.</summary>
    public int TunnelsFailed { get; set; }

    /// <summary>When the portal received it.</summary>
    public DateTimeOffset At { get; set; }
}

internal sealed class RolloutConfiguration : IEntityTypeConfiguration<Rollout>, IEntityTypeConfiguration<UpdateReport>
{
    /// <summary>The index that allows one running or paused rollout per tenant and channel.</summary>
    public const string ActiveRolloutIndex = "IX_Rollouts_Active";

    public void Configure(EntityTypeBuilder<Rollout> builder)
    {
        builder.ToTable("Rollouts");
        builder.Property(r => r.Channel).HasMaxLength(64);
        builder.Property(r => r.Version).HasMaxLength(64);
        builder.Property(r => r.BaselineVersion).HasMaxLength(64);
        builder.Property(r => r.Plan).HasMaxLength(16);
        builder.Property(r => r.Status).HasMaxLength(16);
        builder.Property(r => r.Reason).HasMaxLength(1000);
        builder.Property(r => r.InternalGroupIds).HasJsonConversion();
        builder.Property(r => r.AudienceGroupIds).HasJsonConversion();
        builder.Property(r => r.Pins).HasJsonConversion();
        builder.Property(r => r.Deferrals).HasJsonConversion();
        builder.Property(r => r.Health).HasOptionalJsonConversion();
        builder.Property(r => r.Revision).IsConcurrencyToken();
        builder.HasIndex(r => new { r.TenantId, r.Channel, r.CreatedAt });

        // Devices follow one rollout per channel: two active at once, as two creates at the same moment made, is refused by the database.
        builder.HasIndex(r => new { r.TenantId, r.Channel }).IsUnique().HasFilter("\"Status\" IN ('running', 'paused')").HasDatabaseName(ActiveRolloutIndex);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<UpdateReport> builder)
    {
        builder.ToTable("UpdateReports");
        builder.Property(r => r.Channel).HasMaxLength(64);
        builder.Property(r => r.Version).HasMaxLength(64);
        builder.Property(r => r.Event).HasMaxLength(16);
        builder.Property(r => r.Detail).HasMaxLength(1000);
        builder.Property(r => r.RoleRestarts).HasOptionalJsonConversion();
        builder.HasIndex(r => new { r.TenantId, r.Channel, r.At });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
