using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.AppSegments;

internal sealed class AppSegmentConfiguration :
    IEntityTypeConfiguration<AppSegment>, IEntityTypeConfiguration<SegmentGroup>, IEntityTypeConfiguration<ConnectorGroup>, IEntityTypeConfiguration<ServerGroup>
{
    public void Configure(EntityTypeBuilder<AppSegment> builder)
    {
        builder.ToTable("AppSegments");
        builder.Property(s => s.Name).HasMaxLength(100);
        builder.Property(s => s.Description).HasMaxLength(1000);
        builder.Property(s => s.Domains).HasJsonConversion();
        builder.Property(s => s.Cidrs).HasJsonConversion();
        builder.Property(s => s.Ports).HasJsonConversion();
        builder.Property(s => s.ConnectorGroupIds).HasJsonConversion();
        builder.Property(s => s.ServerGroupIds).HasJsonConversion();
        builder.HasIndex(s => new { s.TenantId, s.Name }).IsUnique();
        builder.HasOne<Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<SegmentGroup>().WithMany().HasForeignKey(s => s.SegmentGroupId).OnDelete(DeleteBehavior.Restrict);
    }

    public void Configure(EntityTypeBuilder<SegmentGroup> builder)
    {
        builder.ToTable("SegmentGroups");
        builder.Property(g => g.Name).HasMaxLength(100);
        builder.Property(g => g.Description).HasMaxLength(1000);
        builder.HasIndex(g => new { g.TenantId, g.Name }).IsUnique();
        builder.HasOne<Tenant>().WithMany().HasForeignKey(g => g.TenantId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ConnectorGroup> builder)
    {
        builder.ToTable("ConnectorGroups");
        builder.Property(g => g.Name).HasMaxLength(100);
        builder.Property(g => g.Description).HasMaxLength(1000);
        builder.HasIndex(g => new { g.TenantId, g.Name }).IsUnique();
        builder.HasOne<Tenant>().WithMany().HasForeignKey(g => g.TenantId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ServerGroup> builder)
    {
        builder.ToTable("ServerGroups");
        builder.Property(g => g.Name).HasMaxLength(100);
        builder.Property(g => g.Description).HasMaxLength(1000);
        builder.Property(g => g.Servers).HasJsonConversion();
        builder.Property(g => g.HealthCheck).HasMaxLength(16);
        builder.Property(g => g.HealthPath).HasMaxLength(1000);
        builder.HasIndex(g => new { g.TenantId, g.Name }).IsUnique();
        builder.HasOne<Tenant>().WithMany().HasForeignKey(g => g.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
