using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Profiles;

internal sealed class ProfileConfiguration : IEntityTypeConfiguration<ForwardingProfile>, IEntityTypeConfiguration<AppProfile>
{
    public void Configure(EntityTypeBuilder<ForwardingProfile> builder)
    {
        builder.ToTable("ForwardingProfiles");
        builder.Property(p => p.Name).HasMaxLength(100);
        builder.Property(p => p.Trusted).HasMaxLength(16);
        builder.Property(p => p.Untrusted).HasMaxLength(16);
        builder.Property(p => p.Vpn).HasMaxLength(16);
        builder.HasIndex(p => new { p.TenantId, p.Name }).IsUnique();
        builder.HasOne<Tenant>().WithMany().HasForeignKey(p => p.TenantId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<AppProfile> builder)
    {
        builder.ToTable("AppProfiles");
        builder.Property(p => p.Name).HasMaxLength(100);
        builder.Property(p => p.FailMode).HasMaxLength(16);
        builder.Property(p => p.GroupIds).HasJsonConversion();
        builder.Property(p => p.TrustedNetwork).HasJsonConversion();
        builder.HasIndex(p => new { p.TenantId, p.Name }).IsUnique();
        builder.HasOne<Tenant>().WithMany().HasForeignKey(p => p.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<ForwardingProfile>().WithMany().HasForeignKey(p => p.ForwardingProfileId).OnDelete(DeleteBehavior.Restrict);
    }
}
