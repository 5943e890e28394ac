using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Gatehouse.Wire.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Dr;

/// <summary>A tenant's disaster-recovery settings (one row per tenant, made on first change).</summary>
public sealed class DrSettings : ITenantOwned
{
    /// <inheritdoc/>
    public Guid TenantId { get; set; }

    /// <summary>Whether <paramref name="tenantId"/> has set up disaster recovery (has a row), whatever tenant <paramref name="db"/> is scoped to.</summary>
    public static Task<bool> ExistForAsync(PortalDbContext db, Guid tenantId, CancellationToken ct) =>
        db.Set<DrSettings>().IgnoreQueryFilters().AsNoTracking().AnyAsync(d => d.TenantId == tenantId, ct);

    /// <summary>The DNS name whose TXT record triggers DR.</summary>
    public string? RecordName { get; set; }

    /// <summary>The DR public key, PEM (SubjectPublicKeyInfo, P-256).</summary>
    public string? PublicKeyPem { get; set; }

    /// <summary>The edges that are DR edges.</summary>
    public List<Guid> EdgeIds { get; set; } = [];

    /// <summary>The group whose devices take a <c>test</c> record.</summary>
    public Guid? DrillGroupId { get; set; }

    /// <summary>The DR policy's rules, normalised.</summary>
    public List<PolicyRuleSpec> Rules { get; set; } = [];

    /// <summary>allow or block, for traffic no DR rule covers.</summary>
    public string DefaultAction { get; set; } = PolicyActions.Block;

    /// <summary>How often agents look the record up.</summary>
    public int CheckSeconds { get; set; } = 60;

    /// <summary>When they last changed.</summary>
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Whether agents get them: a record name, a key and a DR edge.</summary>
    public bool Ready => RecordName is not null && PublicKeyPem is not null && EdgeIds.Count > 0;
}

internal sealed class DrSettingsConfiguration : IEntityTypeConfiguration<DrSettings>
{
    public void Configure(EntityTypeBuilder<DrSettings> builder)
    {
        builder.ToTable("DrSettings");
        builder.HasKey(s => s.TenantId);
        builder.Property(s => s.RecordName).HasMaxLength(253);
        builder.Property(s => s.PublicKeyPem).HasMaxLength(1000);
        builder.Property(s => s.EdgeIds).HasJsonConversion();
        builder.Property(s => s.Rules).HasJsonConversion();
        builder.Property(s => s.DefaultAction).HasMaxLength(16);
        builder.Ignore(s => s.Ready);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
