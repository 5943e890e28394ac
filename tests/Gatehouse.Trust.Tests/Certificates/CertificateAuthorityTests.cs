using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;

namespace Gatehouse.Trust.Tests.Certificates;

public sealed class CertificateAuthorityTests : IDisposable
{
    private const string TenantA = "3f2c9a7e0b1d4c6f8a9e2b7d5c1f0a3e";
    private const string TenantB = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
    private const string DeviceId = "7d1e4a2b9c3f4e5d8a6b0c1d2e3f4a5b";
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private readonly ManualTimeProvider _time = new(Now);
    private readonly CertificateAuthority _ca;
    private readonly ECDsa _deviceKey = CertificateSigningRequests.CreateKey();

    public CertificateAuthorityTests() => _ca = CertificateAuthority.Create(TenantA, "Acme & Co, \"Ltd\"", _time);

    public void Dispose()
    {
        _ca.Dispose();
        _deviceKey.Dispose();
    }

    private static CertificateIdentity Device(string tenant = TenantA) => new(tenant, IdentityKinds.Device, DeviceId);

    private static X509Certificate2 Load(IssuedCertificate issued) => X509Certificate2.CreateFromPem(issued.CertificatePem);

    [Fact]
    public void Ca_certificate_is_a_self_signed_p256_ca_limited_to_signing_certificates()
    {
        var cert = _ca.Certificate;

        Assert.Equal(cert.SubjectName.RawData, cert.IssuerName.RawData);
        Assert.Equal("Gatehouse tenant CA Acme & Co, \"Ltd\"", cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
        Assert.False(cert.HasPrivateKey);
        var constraints = cert.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(constraints.CertificateAuthority);
        Assert.True(constraints.HasPathLengthConstraint);
        Assert.Equal(0, constraints.PathLengthConstraint);
        Assert.Equal(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, cert.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        Assert.Equal(Now.AddDays(3652).UtcDateTime, cert.NotAfter.ToUniversalTime());
        using var key = cert.GetECDsaPublicKey();
        Assert.Equal(256, key!.KeySize);
    }

    [Fact]
    public void Ca_issues_a_certificate_from_a_device_csr_and_validate_accepts_it()
    {
        var csr = CertificateSigningRequests.Create(_deviceKey, "my-laptop");

        var issued = _ca.Issue(csr, Device(), TimeSpan.FromDays(30));
        using var cert = Load(issued);

        Assert.True(_ca.Validate(cert, out var reason), reason);
        Assert.Equal("", reason);
        Assert.Equal($"CN={DeviceId}, O={TenantA}", cert.Subject);
        Assert.Equal(_deviceKey.ExportSubjectPublicKeyInfo(), cert.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(Now.AddMinutes(-5), issued.NotBefore);
        Assert.Equal(Now.AddDays(30), issued.NotAfter);
        Assert.Equal(CertificateAuthority.ThumbprintOf(cert), issued.Thumbprint);
        Assert.Equal(issued.SerialNumberHex, cert.SerialNumber.ToLowerInvariant());
        Assert.Equal(32, issued.SerialNumberHex.Length);
    }

    [Fact]
    public void Device_certificate_is_a_client_auth_leaf_with_key_identifiers()
    {
        using var cert = Load(_ca.Issue(CertificateSigningRequests.Create(_deviceKey, "x"), Device(), TimeSpan.FromDays(1)));

        Assert.False(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, cert.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        var usages = cert.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value!).ToArray();
        Assert.Equal(new[] { "1.3.6.1.5.5.7.3.2" }, usages);
        var aki = cert.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single();
        var caSki = _ca.Certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single();
        Assert.Equal(caSki.SubjectKeyIdentifierBytes.ToArray(), aki.KeyIdentifier!.Value.ToArray());
        Assert.Single(cert.Extensions.OfType<X509SubjectKeyIdentifierExtension>());
    }

    [Fact]
    public void Edge_certificate_also_serves_tls()
    {
        var identity = new CertificateIdentity(TenantA, IdentityKinds.Edge, "edge-1");

        using var cert = Load(_ca.Issue(CertificateSigningRequests.Create(_deviceKey, "edge"), identity, TimeSpan.FromDays(1)));

        var usages = cert.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value!).ToArray();
        Assert.Equal(new[] { "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1" }, usages);
    }

    [Fact]
    public void Identity_round_trips_through_the_uri_san()
    {
        var identity = new CertificateIdentity(TenantA, IdentityKinds.Connector, "conn-7");

        using var cert = Load(_ca.Issue(CertificateSigningRequests.Create(_deviceKey, "c"), identity, TimeSpan.FromDays(1)));

        Assert.Equal(identity, CertificateIdentity.FromCertificate(cert));
        Assert.Equal($"gatehouse://{TenantA}/connector/conn-7", identity.ToUri().OriginalString);
    }

    [Fact]
    public void Lifetime_is_cut_short_at_the_ca_expiry()
    {
        using var shortCa = CertificateAuthority.Create(TenantA, "short", _time, TimeSpan.FromDays(10));

        var issued = shortCa.Issue(CertificateSigningRequests.Create(_deviceKey, "x"), Device(), TimeSpan.FromDays(365));

        Assert.Equal(Now.AddDays(10), issued.NotAfter);
    }

    [Fact]
    public void Certificate_of_another_tenants_ca_is_refused()
    {
        using var otherCa = CertificateAuthority.Create(TenantB, "Other", _time);
        using var cert = Load(otherCa.Issue(CertificateSigningRequests.Create(_deviceKey, "x"), Device(TenantB), TimeSpan.FromDays(1)));

        Assert.False(_ca.Validate(cert, out var reason));
        Assert.Contains("does not chain", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Certificate_of_a_ca_claiming_the_same_tenant_is_refused()
    {
        using var impostor = CertificateAuthority.Create(TenantA, "Impostor", _time);
        using var cert = Load(impostor.Issue(CertificateSigningRequests.Create(_deviceKey, "x"), Device(), TimeSpan.FromDays(1)));

        Assert.False(_ca.Validate(cert, out _));
    }

    [Fact]
    public void Expired_certificate_is_refused()
    {
        using var cert = Load(_ca.Issue(CertificateSigningRequests.Create(_deviceKey, "x"), Device(), TimeSpan.FromHours(1)));
        Assert.True(_ca.Validate(cert, out _));

        _time.Advance(TimeSpan.FromHours(2));

        Assert.False(_ca.Validate(cert, out var reason));
        Assert.Contains("NotTimeValid", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Certificate_without_a_gatehouse_identity_is_refused_even_from_this_ca()
    {
        // Sign a bare leaf with the CA's own key, as a bug or a misuse of the key might.
        using var caKey = ECDsa.Create();
        caKey.ImportPkcs8PrivateKey(_ca.ExportPrivateKeyPkcs8(), out _);
        var request = new CertificateRequest("CN=bare", _deviceKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var bare = request.Create(_ca.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), Now.AddMinutes(-1), Now.AddDays(1), [1, 2, 3]);

        Assert.False(_ca.Validate(bare, out var reason));
        Assert.Contains("identity", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Rsa_csr_is_refused()
    {
        using var rsa = RSA.Create(2048);
        var csr = new CertificateRequest("CN=rsa", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequestPem();

        var e = Assert.Throws<TrustException>(() => _ca.Issue(csr, Device(), TimeSpan.FromDays(1)));
        Assert.Contains("EC P-256", e.Message, StringComparison.Ordinal);
        Assert.Contains("RSA", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csr_on_another_curve_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var csr = new CertificateRequest("CN=p384", p384, HashAlgorithmName.SHA384).CreateSigningRequestPem();

        var e = Assert.Throws<TrustException>(() => _ca.Issue(csr, Device(), TimeSpan.FromDays(1)));
        Assert.Contains("P-256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csr_with_a_tampered_signature_is_refused()
    {
        var pem = CertificateSigningRequests.Create(_deviceKey, "x");
        var bytes = Convert.FromBase64String(pem[PemEncoding.Find(pem).Base64Data]);
        // The signature is the last field; its last byte belongs to s.
        bytes[^1] ^= 0x01;
        var tampered = PemEncoding.WriteString("CERTIFICATE REQUEST", bytes);

        Assert.Throws<TrustException>(() => _ca.Issue(tampered, Device(), TimeSpan.FromDays(1)));
    }

    [Fact]
    public void Csr_with_tampered_content_is_refused()
    {
        // Swap the requested name after signing: the self-signature no longer covers the request.
        var pem = CertificateSigningRequests.Create(_deviceKey, "aaaa");
        var bytes = Convert.FromBase64String(pem[PemEncoding.Find(pem).Base64Data]);
        var at = bytes.AsSpan().IndexOf("aaaa"u8);
        bytes[at] = (byte)'b';
        var tampered = PemEncoding.WriteString("CERTIFICATE REQUEST", bytes);

        Assert.Throws<TrustException>(() => _ca.Issue(tampered, Device(), TimeSpan.FromDays(1)));
    }

    [Fact]
    public void Extensions_requested_in_the_csr_are_ignored()
    {
        var request = new CertificateRequest("CN=greedy", _deviceKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));

        using var cert = Load(_ca.Issue(request.CreateSigningRequestPem(), Device(), TimeSpan.FromDays(1)));

        Assert.False(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, cert.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        Assert.Equal($"CN={DeviceId}, O={TenantA}", cert.Subject);
    }

    [Fact]
    public void Identity_of_another_tenant_is_not_issued()
    {
        Assert.Throws<ArgumentException>(() => _ca.Issue(CertificateSigningRequests.Create(_deviceKey, "x"), Device(TenantB), TimeSpan.FromDays(1)));
    }

    [Fact]
    public void Ca_saved_and_loaded_keeps_issuing_certificates_the_original_accepts()
    {
        using var loaded = CertificateAuthority.Load(_ca.CertificatePem, _ca.ExportPrivateKeyPkcs8(), _time);

        using var cert = Load(loaded.Issue(CertificateSigningRequests.Create(_deviceKey, "x"), Device(), TimeSpan.FromDays(1)));

        Assert.Equal(TenantA, loaded.TenantId);
        Assert.True(_ca.Validate(cert, out var reason), reason);
    }

    [Fact]
    public void Ca_loaded_with_a_key_that_is_not_its_own_is_refused()
    {
        using var other = CertificateAuthority.Create(TenantA, "Other", _time);

        Assert.Throws<TrustException>(() => CertificateAuthority.Load(_ca.CertificatePem, other.ExportPrivateKeyPkcs8(), _time));
    }
}
