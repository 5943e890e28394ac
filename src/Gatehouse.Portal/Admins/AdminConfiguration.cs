using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Admins;

internal sealed class AdminConfiguration : IEntityTypeConfiguration<Admin>, IEntityTypeConfiguration<ApiToken>, IEntityTypeConfiguration<AdminSession>
{
    public void Configure(EntityTypeBuilder<Admin> builder)
    {
        builder.Property(a => a.Email).HasMaxLength(254);
        builder.Property(a => a.Role).HasMaxLength(16);
        builder.HasIndex(a => a.Email).IsUnique();
        builder.HasIndex(a => a.TenantId);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(a => a.TenantId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.Property(t => t.Name).HasMaxLength(100);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasIndex(t => new { t.TenantId, t.AdminId });
        builder.HasOne<Admin>().WithMany().HasForeignKey(t => t.AdminId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<AdminSession> builder)
    {
        builder.Property(s => s.TokenHash).HasMaxLength(64);
        builder.Property(s => s.CsrfTokenHash).HasMaxLength(64);
        builder.HasIndex(s => s.TokenHash).IsUnique();
        builder.HasOne<Admin>().WithMany().HasForeignKey(s => s.AdminId).OnDelete(DeleteBehavior.Cascade);
    }
}
