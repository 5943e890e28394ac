using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Config;

internal sealed class ConfigBundleConfiguration : IEntityTypeConfiguration<ConfigBundle>
{
    public void Configure(EntityTypeBuilder<ConfigBundle> builder)
    {
        builder.ToTable("ConfigBundles");
        builder.Property(b => b.Consumer).HasMaxLength(16);
        builder.Property(b => b.BodySha256).HasMaxLength(64);
        builder.HasIndex(b => new { b.TenantId, b.Consumer }).IsUnique();
        builder.HasOne<Tenant>().WithMany().HasForeignKey(b => b.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
