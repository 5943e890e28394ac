using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Policies;

internal sealed class PolicyConfiguration : IEntityTypeConfiguration<PolicyRule>
{
    public void Configure(EntityTypeBuilder<PolicyRule> builder)
    {
        builder.ToTable("PolicyRules");
        builder.Property(r => r.Name).HasMaxLength(100);
        builder.Property(r => r.Action).HasMaxLength(16);
        builder.Property(r => r.Description).HasMaxLength(1000);
        builder.Property(r => r.Criteria).HasJsonConversion();
        builder.Property(r => r.Inspect).HasJsonConversion();
        builder.HasIndex(r => new { r.TenantId, r.Name }).IsUnique();
        // Not unique: moving rules renumbers them row by row, and a unique index would trip over the interim state.
        builder.HasIndex(r => new { r.TenantId, r.Order });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
