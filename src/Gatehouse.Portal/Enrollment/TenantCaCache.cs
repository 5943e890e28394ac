using System.Collections.Concurrent;
using System.Security.Cryptography;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tenants;
using Gatehouse.Trust;
using Gatehouse.Trust.Certificates;
using Gatehouse.Trust.Secrets;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Enrollment;

/// <summary>A tenant's loaded CA and the public halves of its trust anchors.</summary>
public sealed record TenantTrust(Guid TenantId, CertificateAuthority Authority, string CaCertificatePem, string ConfigKeyPublicPem);

/// <summary>
/// Tenant CAs, decrypted once and kept in memory: certificate authentication validates a chain on
/// every request and must not decrypt a key or read the tenant row each time. CAs do not rotate,
/// so entries never go stale.
/// </summary>
public sealed class TenantCaCache(SecretProtector secrets, TimeProvider time) : IDisposable
{
    private readonly ConcurrentDictionary<Guid, TenantTrust> _tenants = new();

    /// <summary>The tenant's CA, or null when no such tenant exists.</summary>
    public async ValueTask<TenantTrust?> GetAsync(PortalDbContext db, Guid tenantId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (_tenants.TryGetValue(tenantId, out var cached))
        {
            return cached;
        }

        var row = await db.Tenants.AsNoTracking().Where(t => t.Id == tenantId)
            .Select(t => new { t.CaCertificatePem, t.CaPrivateKeyProtected, t.ConfigKeyPublicPem })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }

        var key = secrets.Unprotect(row.CaPrivateKeyProtected, TenantProvisioner.CaKeyPurpose);
        TenantTrust loaded;
        try
        {
            loaded = new TenantTrust(tenantId, CertificateAuthority.Load(row.CaCertificatePem, key, time), row.CaCertificatePem, row.ConfigKeyPublicPem);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        if (_tenants.TryAdd(tenantId, loaded))
        {
            return loaded;
        }

        loaded.Authority.Dispose();
        return _tenants[tenantId];
    }

    /// <summary>Issues a certificate for a subject of the tenant; a bad CSR is a 400 on <c>csrPem</c>.</summary>
    public async Task<(IssuedCertificate Certificate, TenantTrust Trust)> IssueAsync(
        PortalDbContext db, Guid tenantId, string kind, Guid subjectId, string? csrPem, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(csrPem))
        {
            throw PortalException.Invalid("csrPem", "csrPem must hold a PEM certificate signing request (PKCS#10).");
        }

        var trust = await GetAsync(db, tenantId, cancellationToken)
            ?? throw new InvalidOperationException($"Tenant {tenantId} has no CA.");
        var identity = new CertificateIdentity(tenantId.ToString(), kind, subjectId.ToString());
        try
        {
            // Signing with one key object from many requests at once is not documented as safe.
            lock (trust.Authority)
            {
                return (trust.Authority.Issue(csrPem, identity, EnrollmentLimits.CertificateLifetime(kind)), trust);
            }
        }
        catch (TrustException e)
        {
            throw PortalException.Invalid("csrPem", e.Message);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var trust in _tenants.Values)
        {
            trust.Authority.Dispose();
        }

        _tenants.Clear();
    }
}
