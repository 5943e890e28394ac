using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gatehouse.Portal.Users;

internal sealed class ProxyCredentialConfiguration : IEntityTypeConfiguration<ProxyCredential>
{
    public void Configure(EntityTypeBuilder<ProxyCredential> builder)
    {
        builder.ToTable("ProxyCredentials");
        builder.Property(c => c.Description).HasMaxLength(ProxyCredentialEndpoints.MaxDescriptionLength);
        builder.Property(c => c.PasswordSha256).HasMaxLength(64);
        // A user's credentials, in keyset pages: WHERE TenantId = @t AND UserId = @u AND Id > @cursor ORDER BY Id.
        builder.HasIndex(c => new { c.TenantId, c.UserId, c.Id });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(c => c.TenantId).OnDelete(DeleteBehavior.Cascade);
        // A deleted user's credentials go with it.
        builder.HasOne<User>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
