using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Connectors;

internal sealed class ConnectorConfiguration : IEntityTypeConfiguration<Connector>
{
    public void Configure(EntityTypeBuilder<Connector> builder)
    {
        builder.ToTable("Connectors");
        builder.Property(c => c.Name).HasMaxLength(100);
        builder.Property(c => c.Status).HasMaxLength(16);
        builder.Property(c => c.CertificateSerial).HasMaxLength(64);
        builder.Property(c => c.CertificateThumbprint).HasMaxLength(64);
        builder.Property(c => c.Health).HasOptionalJsonConversion();
        builder.HasIndex(c => new { c.TenantId, c.Status });
        // ConnectorGroupId is a plain column: connector groups are defined on another branch.
        builder.HasIndex(c => new { c.TenantId, c.ConnectorGroupId });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(c => c.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
