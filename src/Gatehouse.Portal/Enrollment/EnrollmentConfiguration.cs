using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Enrollment;

internal sealed class EnrollmentConfiguration : IEntityTypeConfiguration<EnrollmentToken>, IEntityTypeConfiguration<ProvisioningKey>
{
    public void Configure(EntityTypeBuilder<EnrollmentToken> builder)
    {
        builder.ToTable("EnrollmentTokens");
        builder.Property(t => t.Description).HasMaxLength(1000);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => t.TenantId);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(t => t.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Users.User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ProvisioningKey> builder)
    {
        builder.ToTable("ProvisioningKeys");
        builder.Property(k => k.Name).HasMaxLength(100);
        builder.Property(k => k.Kind).HasMaxLength(16);
        builder.Property(k => k.KeyHash).HasMaxLength(64);
        builder.HasIndex(k => k.KeyHash).IsUnique();
        builder.HasIndex(k => k.TenantId);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(k => k.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
