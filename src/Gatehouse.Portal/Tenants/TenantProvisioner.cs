using Gatehouse.Portal.Admins;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Bundles;
using Gatehouse.Trust.Certificates;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Tenants;

/// <summary>Creates tenants with their own CA and config-signing key, and their first owner.</summary>
public sealed class TenantProvisioner(PortalDbContext db, SecretProtector secrets, TimeProvider time)
{
    /// <summary>Purpose string binding the CA key's ciphertext to its use.</summary>
    public const string CaKeyPurpose = "tenant-ca-key";

    /// <summary>Purpose string binding the config key's ciphertext to its use.</summary>
    public const string ConfigKeyPurpose = "tenant-config-key";

    /// <summary>Creates a tenant and its owner; the owner must replace <paramref name="password"/> unless told otherwise.</summary>
    public async Task<(Tenant Tenant, Admin Owner)> CreateAsync(string name, string ownerEmail, string password, bool isOperator, bool mustChangePassword, CancellationToken cancellationToken)
    {
        name = Validate.Name(name, "name");
        ownerEmail = Validate.Email(ownerEmail, "ownerEmail");
        if (await db.Tenants.AnyAsync(t => t.Name == name, cancellationToken))
        {
            throw PortalException.Conflict($"A tenant named '{name}' already exists.", "name");
        }

        if (await db.Admins.IgnoreQueryFilters().AnyAsync(a => a.Email == ownerEmail, cancellationToken))
        {
            throw PortalException.Conflict($"An admin with the email '{ownerEmail}' already exists.", "ownerEmail");
        }

        var now = time.GetUtcNow();
        var tenantId = Guid.CreateVersion7(now);
        using var ca = CertificateAuthority.Create(tenantId.ToString(), name, time);
        using var configKey = BundleSigningKey.Generate();
        var tenant = new Tenant
        {
            Id = tenantId,
            Name = name,
            CreatedAt = now,
            CaCertificatePem = ca.CertificatePem,
            CaPrivateKeyProtected = secrets.Protect(ca.ExportPrivateKeyPkcs8(), CaKeyPurpose),
            ConfigKeyProtected = secrets.Protect(configKey.ExportPkcs8(), ConfigKeyPurpose),
            ConfigKeyPublicPem = configKey.PublicKeyPem,
        };
        var owner = new Admin
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenantId,
            Email = ownerEmail,
            PasswordHash = PasswordHasher.Hash(password),
            Role = AdminRoles.Owner,
            IsOperator = isOperator,
            MustChangePassword = mustChangePassword,
            CreatedAt = now,
        };
        db.Tenants.Add(tenant);
        db.Admins.Add(owner);
        return (tenant, owner);
    }
}
