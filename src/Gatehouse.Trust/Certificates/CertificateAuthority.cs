using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Trust.Certificates;

/// <summary>
/// A tenant's certificate authority: a self-signed EC P-256 CA that issues device, edge and
/// connector certificates from their signing requests, and checks certificates presented to it.
/// </summary>
public sealed class CertificateAuthority : IDisposable
{
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string OrganizationOid = "2.5.4.10";
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");

    // Clocks drift; a certificate valid from a few minutes ago works on a peer that runs a little behind.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly ECDsa _key;
    private readonly TimeProvider _time;

    private CertificateAuthority(X509Certificate2 certificate, ECDsa key, string tenantId, TimeProvider time)
    {
        Certificate = certificate;
        _key = key;
        TenantId = tenantId;
        _time = time;
    }

    /// <summary>The tenant this CA belongs to (the <c>O</c> of its subject).</summary>
    public string TenantId { get; }

    /// <summary>The CA certificate, without its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate as a PEM <c>CERTIFICATE</c> block, for trust stores.</summary>
    public string CertificatePem => Certificate.ExportCertificatePem();

    /// <summary>Makes a new self-signed tenant CA.</summary>
    /// <param name="tenantId">The tenant id (see <see cref="CertificateIdentity.IsValidId"/>).</param>
    /// <param name="tenantName">The tenant's display name, for the CA's common name.</param>
    /// <param name="time">The clock.</param>
    /// <param name="lifetime">How long the CA is valid; ten years when not given.</param>
    /// <returns>The CA; the caller disposes it.</returns>
    public static CertificateAuthority Create(string tenantId, string tenantName, TimeProvider time, TimeSpan? lifetime = null)
    {
        if (!CertificateIdentity.IsValidId(tenantId))
        {
            throw new ArgumentException($"\"{tenantId}\" is not a valid tenant id ([a-z0-9-], 1 to 64 characters).", nameof(tenantId));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(tenantName);
        ArgumentNullException.ThrowIfNull(time);
        var validFor = lifetime ?? TimeSpan.FromDays(3652);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validFor, TimeSpan.Zero, nameof(lifetime));

        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName($"Gatehouse tenant CA {tenantName}");
        name.AddOrganizationName(tenantId);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var request = new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            var now = WholeSeconds(time.GetUtcNow());
            using var withKey = request.CreateSelfSigned(now - ClockSkew, now + validFor);
            var certificate = X509CertificateLoader.LoadCertificate(withKey.RawData);
            return new CertificateAuthority(certificate, key, tenantId, time);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Loads a CA saved with <see cref="CertificatePem"/> and <see cref="ExportPrivateKeyPkcs8"/>.</summary>
    /// <param name="certificatePem">The CA certificate.</param>
    /// <param name="privateKeyPkcs8">The CA's private key, unencrypted PKCS#8 DER.</param>
    /// <param name="time">The clock.</param>
    /// <returns>The CA; the caller disposes it.</returns>
    /// <exception cref="TrustException">The certificate is not a Gatehouse tenant CA or the key does not belong to it.</exception>
    public static CertificateAuthority Load(string certificatePem, ReadOnlySpan<byte> privateKeyPkcs8, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(certificatePem);
        ArgumentNullException.ThrowIfNull(time);
        X509Certificate2 certificate;
        try
        {
            using var parsed = X509Certificate2.CreateFromPem(certificatePem);
            certificate = X509CertificateLoader.LoadCertificate(parsed.RawData);
        }
        catch (CryptographicException)
        {
            throw new TrustException("The CA certificate is not a readable PEM certificate.");
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(privateKeyPkcs8, out _);
            if (!P256.Is(key) || !key.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(certificate.PublicKey.ExportSubjectPublicKeyInfo()))
            {
                throw new TrustException("The CA private key does not belong to the CA certificate.");
            }

            if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            {
                throw new TrustException("The CA certificate is not marked as a certificate authority.");
            }

            var tenantId = OrganizationOf(certificate);
            if (!CertificateIdentity.IsValidId(tenantId))
            {
                throw new TrustException("The CA certificate does not name a valid tenant id as its organization.");
            }

            return new CertificateAuthority(certificate, key, tenantId!, time);
        }
        catch (CryptographicException)
        {
            key.Dispose();
            certificate.Dispose();
            throw new TrustException("The CA private key is not a readable PKCS#8 private key.");
        }
        catch
        {
            key.Dispose();
            certificate.Dispose();
            throw;
        }
    }

    /// <summary>The thumbprint Gatehouse uses: lowercase hex SHA-256 of the certificate's DER.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns>64 lowercase hex digits.</returns>
    public static string ThumbprintOf(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));
    }

    /// <summary>Exports the CA's private key as unencrypted PKCS#8 DER; store it readable by its owner only.</summary>
    /// <returns>The private key.</returns>
    public byte[] ExportPrivateKeyPkcs8() => _key.ExportPkcs8PrivateKey();

    /// <summary>
    /// Issues a certificate for <paramref name="identity"/> to the key of a signing request. Only the
    /// request's key is used: its subject and any extensions it asks for are ignored.
    /// </summary>
    /// <param name="csrPem">The PKCS#10 request, PEM; its self-signature is checked.</param>
    /// <param name="identity">Who the certificate is for; its tenant is this CA's.</param>
    /// <param name="lifetime">How long the certificate is valid; cut short at the CA's own expiry.</param>
    /// <returns>The certificate.</returns>
    /// <exception cref="TrustException">The request is unreadable, its signature is wrong, or its key is not EC P-256.</exception>
    /// <exception cref="ArgumentException">The identity is of another tenant, or the lifetime is not positive.</exception>
    public IssuedCertificate Issue(string csrPem, CertificateIdentity identity, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(csrPem);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        if (identity.TenantId != TenantId)
        {
            throw new ArgumentException($"The identity is of tenant \"{identity.TenantId}\", but this CA is of tenant \"{TenantId}\".", nameof(identity));
        }

        var publicKey = ReadRequestKey(csrPem);

        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(identity.SubjectId);
        subject.AddOrganizationName(identity.TenantId);
        var request = new CertificateRequest(subject.Build(), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var usages = new OidCollection { ClientAuth };
        if (identity.Kind == IdentityKinds.Edge)
        {
            usages.Add(ServerAuth);
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        request.CertificateExtensions.Add(identity.ToSubjectAlternativeName());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        var now = WholeSeconds(_time.GetUtcNow());
        var caNotBefore = new DateTimeOffset(Certificate.NotBefore.ToUniversalTime());
        var caNotAfter = new DateTimeOffset(Certificate.NotAfter.ToUniversalTime());
        var notBefore = Max(now - ClockSkew, caNotBefore);
        var notAfter = Min(now + lifetime, caNotAfter);
        if (notAfter <= now)
        {
            throw new TrustException("The CA has expired and cannot issue certificates.");
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        // Positive (top bit clear) and without a leading zero byte, so the DER integer is 16 bytes.
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);

        using var issued = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), notBefore, notAfter, serial);
        return new IssuedCertificate(
            issued.ExportCertificatePem(),
            Convert.ToHexStringLower(serial),
            new DateTimeOffset(issued.NotBefore.ToUniversalTime()),
            new DateTimeOffset(issued.NotAfter.ToUniversalTime()),
            ThumbprintOf(issued));
    }

    /// <summary>
    /// Checks that <paramref name="leaf"/> was issued by this CA, is valid now, is not a CA itself and
    /// carries a Gatehouse identity of this CA's tenant. Revocation is the caller's to check.
    /// </summary>
    /// <param name="leaf">The certificate a peer presented.</param>
    /// <param name="reason">Why the certificate is refused; empty when it is accepted.</param>
    /// <returns><see langword="true"/> when the certificate is accepted.</returns>
    public bool Validate(X509Certificate2 leaf, out string reason)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = _time.GetUtcNow().UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        try
        {
            if (!chain.Build(leaf))
            {
                var problems = chain.ChainStatus.Select(s => s.Status.ToString()).Distinct();
                reason = $"The certificate does not chain to the CA of tenant \"{TenantId}\" at this time ({string.Join(", ", problems)}).";
                return false;
            }

            if (chain.ChainElements.Count != 2 || !chain.ChainElements[1].Certificate.RawData.AsSpan().SequenceEqual(Certificate.RawData))
            {
                reason = "The certificate is not issued directly by this CA.";
                return false;
            }
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }

        if (leaf.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is { CertificateAuthority: true })
        {
            reason = "The certificate is a CA certificate, not a leaf.";
            return false;
        }

        var identity = CertificateIdentity.FromCertificate(leaf);
        if (identity is null)
        {
            reason = "The certificate carries no single valid Gatehouse identity.";
            return false;
        }

        if (identity.TenantId != TenantId)
        {
            reason = $"The certificate is of tenant \"{identity.TenantId}\", not \"{TenantId}\".";
            return false;
        }

        reason = "";
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
    }

    private static PublicKey ReadRequestKey(string csrPem)
    {
        CertificateRequest csr;
        try
        {
            csr = CertificateRequest.LoadSigningRequestPem(csrPem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.Default);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new TrustException("The certificate signing request is unreadable or its signature does not verify.");
        }

        if (csr.PublicKey.Oid.Value != EcPublicKeyOid)
        {
            throw new TrustException($"The certificate signing request has a {csr.PublicKey.Oid.FriendlyName ?? csr.PublicKey.Oid.Value} key; Gatehouse certificates use EC P-256 keys only.");
        }

        using var ec = csr.PublicKey.GetECDsaPublicKey();
        if (ec is null || !P256.Is(ec))
        {
            throw new TrustException("The certificate signing request has an EC key on a curve other than P-256; Gatehouse certificates use EC P-256 keys only.");
        }

        return csr.PublicKey;
    }

    private static string? OrganizationOf(X509Certificate2 certificate)
    {
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements && rdn.GetSingleElementType().Value == OrganizationOid)
            {
                return rdn.GetSingleElementValue();
            }
        }

        return null;
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
