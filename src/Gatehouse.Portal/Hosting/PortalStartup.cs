using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Gatehouse.Trust.Secrets;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Hosting;

/// <summary>Runs once before the portal serves: migrates the database and creates the first owner.</summary>
internal static class PortalStartup
{
    public static async Task PrepareAsync(IServiceProvider services, PortalOptions options, TextWriter console, CancellationToken ct)
    {
        services.GetRequiredService<Updates.UpdateRepository>().EnsureCreated();
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILogger<PortalOptions>>();
        var storage = scope.ServiceProvider.GetRequiredService<StorageOptions>();
        PortalLog.StorageReady(logger, storage.Engine, storage.DataDirectory);

        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (pending.Count > 0)
        {
            await db.Database.MigrateAsync(ct);
            PortalLog.MigrationsApplied(logger, string.Join(", ", pending));
        }

        if (await db.Tenants.AnyAsync(ct))
        {
            return;
        }

        var generated = string.IsNullOrEmpty(options.OwnerPassword);
        var password = generated ? PasswordHasher.NewToken("otp") : options.OwnerPassword!;
        var provisioner = scope.ServiceProvider.GetRequiredService<TenantProvisioner>();
        var (tenant, owner) = await provisioner.CreateAsync(options.FirstTenant, options.OwnerEmail, password, isOperator: true, mustChangePassword: generated, ct);
        scope.ServiceProvider.GetRequiredService<Audit.AuditLog>().Record("tenant.create", "tenant", tenant.Id, null, new { tenant.Id, tenant.Name }, tenant.Id);
        await db.SaveChangesAsync(ct);
        PortalLog.BootstrapCreated(logger, tenant.Name, owner.Email);
        if (generated)
        {
            // Shown once, on the console of whoever started the portal; never logged.
            await console.WriteLineAsync($"First start: owner {owner.Email}, one-time password {password} (change it at first sign-in).");
        }
    }
}
