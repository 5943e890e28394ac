using Gatehouse.Portal.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Limits = Gatehouse.Portal.Logs.TransactionLogValidator;

namespace Gatehouse.Portal.Logs;

internal sealed class TransactionLogConfiguration : IEntityTypeConfiguration<TransactionLogEntry>
{
    public void Configure(EntityTypeBuilder<TransactionLogEntry> builder)
    {
        builder.ToTable("TransactionLogs");
        builder.Property(e => e.Kind).HasMaxLength(Limits.MaxTokenLength);
        builder.Property(e => e.Listener).HasMaxLength(Limits.MaxTokenLength);
        builder.Property(e => e.Action).HasMaxLength(Limits.MaxTokenLength);
        builder.Property(e => e.ClientAddress).HasMaxLength(Limits.MaxAddressLength);
        builder.Property(e => e.Host).HasMaxLength(Limits.MaxHostLength);
        builder.Property(e => e.UserEmail).HasMaxLength(Limits.MaxEmailLength);
        builder.Property(e => e.DestinationIp).HasMaxLength(Limits.MaxAddressLength);
        builder.Property(e => e.Method).HasMaxLength(Limits.MaxTokenLength);
        builder.Property(e => e.Url).HasMaxLength(Limits.MaxUrlLength);
        builder.Property(e => e.Category).HasMaxLength(Limits.MaxNameLength);
        builder.Property(e => e.Rule).HasMaxLength(Limits.MaxNameLength);
        builder.Property(e => e.Reason).HasMaxLength(Limits.MaxReasonLength);
        builder.Property(e => e.ReferenceId).HasMaxLength(Limits.MaxAddressLength);
        builder.Property(e => e.Sni).HasMaxLength(Limits.MaxHostLength);

        // Every listing is one tenant's, newest first: WHERE TenantId = @t [AND filter] AND Id < @cursor ORDER BY Id DESC.
        // Ids are made from the records' times, so from/to are ranges of ids too (TransactionLogIds).
        builder.HasIndex(e => new { e.TenantId, e.Id });
        // The retention sweep (WHERE TenantId = @t AND Time < @cutoff).
        builder.HasIndex(e => new { e.TenantId, e.Time });
        // The filters that pick few rows out of many, each in page order.
        builder.HasIndex(e => new { e.TenantId, e.UserEmail, e.Id });
        builder.HasIndex(e => new { e.TenantId, e.UserId, e.Id });
        builder.HasIndex(e => new { e.TenantId, e.Host, e.Id });
        builder.HasIndex(e => new { e.TenantId, e.Sni, e.Id }); // the host filter matches the TLS server name too
        builder.HasIndex(e => new { e.TenantId, e.Action, e.Id });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(e => e.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
