using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Secrets;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Admins;

/// <summary>
/// Recovery for an operator with shell access: gives an admin a new one-time password and ends
/// the admin's sessions (<c>gatehouse-portal reset-password EMAIL</c>).
/// </summary>
public static class PasswordReset
{
    /// <summary>Resets the password; returns the new one-time password, or null when no such admin exists.</summary>
    public static async Task<string?> ResetAsync(IServiceProvider services, string email, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
        var normalized = email.Trim().ToLowerInvariant();
        var admin = await db.Admins.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Email == normalized, cancellationToken);
        if (admin is null)
        {
            return null;
        }

        var password = PasswordHasher.NewToken("otp");
        admin.PasswordHash = PasswordHasher.Hash(password);
        admin.MustChangePassword = true;
        await db.AdminSessions.IgnoreQueryFilters().Where(s => s.AdminId == admin.Id).ExecuteDeleteAsync(cancellationToken);
        scope.ServiceProvider.GetRequiredService<AuditLog>().Record("admin.password-reset", "admin", admin.Id, null, null, admin.TenantId);
        await db.SaveChangesAsync(cancellationToken);
        return password;
    }
}
