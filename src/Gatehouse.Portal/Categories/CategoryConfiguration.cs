using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Categories;

internal sealed class CategoryConfiguration : IEntityTypeConfiguration<UrlCategory>, IEntityTypeConfiguration<CategoryDomain>
{
    public void Configure(EntityTypeBuilder<UrlCategory> builder)
    {
        builder.ToTable("UrlCategories");
        builder.Property(c => c.Name).HasMaxLength(100);
        builder.Property(c => c.Description).HasMaxLength(1000);
        builder.Property(c => c.Source).HasMaxLength(16);
        builder.HasIndex(c => new { c.TenantId, c.Name }).IsUnique();
        builder.HasOne<Tenant>().WithMany().HasForeignKey(c => c.TenantId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<CategoryDomain> builder)
    {
        builder.ToTable("CategoryDomains");
        builder.Property(d => d.Domain).HasMaxLength(253);
        builder.HasIndex(d => new { d.CategoryId, d.Domain }).IsUnique();
        // "Which categories hold this domain?" within a tenant.
        builder.HasIndex(d => new { d.TenantId, d.Domain });
        builder.HasOne<UrlCategory>().WithMany().HasForeignKey(d => d.CategoryId).OnDelete(DeleteBehavior.Cascade);
    }
}
