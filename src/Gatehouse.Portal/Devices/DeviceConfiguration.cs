using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Devices;

internal sealed class DeviceConfiguration : IEntityTypeConfiguration<Device>
{
    public void Configure(EntityTypeBuilder<Device> builder)
    {
        builder.ToTable("Devices");
        builder.Property(d => d.Name).HasMaxLength(200);
        builder.Property(d => d.Os).HasMaxLength(100);
        builder.Property(d => d.AgentVersion).HasMaxLength(50);
        builder.Property(d => d.Status).HasMaxLength(16);
        builder.Property(d => d.CertificateSerial).HasMaxLength(64);
        builder.Property(d => d.CertificateThumbprint).HasMaxLength(64);
        // Keyset pages of one tenant: WHERE TenantId = @t AND Id > @cursor ORDER BY Id.
        builder.HasIndex(d => new { d.TenantId, d.Id });
        builder.HasIndex(d => new { d.TenantId, d.Status });
        builder.HasIndex(d => new { d.TenantId, d.UserId });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(d => d.TenantId).OnDelete(DeleteBehavior.Cascade);
        // A deleted user's devices stay listed (and revocable) without an owner.
        builder.HasOne<Users.User>().WithMany().HasForeignKey(d => d.UserId).OnDelete(DeleteBehavior.SetNull);
    }
}
