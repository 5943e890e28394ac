using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Edges;

internal sealed class EdgeConfiguration : IEntityTypeConfiguration<Edge>
{
    public void Configure(EntityTypeBuilder<Edge> builder)
    {
        builder.ToTable("Edges");
        builder.Property(e => e.Name).HasMaxLength(100);
        builder.Property(e => e.Address).HasMaxLength(262);
        builder.Property(e => e.Status).HasMaxLength(16);
        builder.Property(e => e.CertificateSerial).HasMaxLength(64);
        builder.Property(e => e.CertificateThumbprint).HasMaxLength(64);
        builder.HasIndex(e => new { e.TenantId, e.Status });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(e => e.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
