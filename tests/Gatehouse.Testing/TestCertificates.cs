using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Testing;

/// <summary>Certificates for TLS servers a test starts itself.</summary>
public static class TestCertificates
{
    /// <summary>
    /// A self-signed P-256 certificate for <c>CN=<paramref name="commonName"/></c>, valid from five minutes ago for a day,
    /// with its private key, loaded so that SslStream can serve it.
    /// </summary>
    public static X509Certificate2 SelfSigned(string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
