using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Gatehouse.Wire.Policy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.AccessPolicies;

/// <summary>One rule of a tenant's access policy for private apps (see <see cref="AccessPolicy"/>).</summary>
public sealed class AccessRule : ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Position in the policy, from 0; the first matching rule decides.</summary>
    public int Order { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary><c>allow</c> or <c>block</c>.</summary>
    public required string Action { get; set; }

    /// <summary>Disabled rules are kept but not published.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Free text.</summary>
    public string Description { get; set; } = "";

    /// <summary>Who, from where and when, to which segments (stored as JSON).</summary>
    public PolicyCriteria Criteria { get; set; } = new();
}

internal sealed class AccessRuleConfiguration : IEntityTypeConfiguration<AccessRule>
{
    public void Configure(EntityTypeBuilder<AccessRule> builder)
    {
        builder.ToTable("AccessRules");
        builder.Property(r => r.Name).HasMaxLength(100);
        builder.Property(r => r.Action).HasMaxLength(16);
        builder.Property(r => r.Description).HasMaxLength(1000);
        builder.Property(r => r.Criteria).HasJsonConversion();
        builder.HasIndex(r => new { r.TenantId, r.Name }).IsUnique();
        builder.HasIndex(r => new { r.TenantId, r.Order });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
