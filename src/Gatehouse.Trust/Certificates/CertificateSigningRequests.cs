using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Trust.Certificates;

/// <summary>What a device, edge or connector runs to ask for a certificate: the key is made here and never leaves.</summary>
public static class CertificateSigningRequests
{
    /// <summary>Makes a new EC P-256 key.</summary>
    /// <returns>The key; the caller disposes it.</returns>
    public static ECDsa CreateKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>Makes a PKCS#10 certificate signing request signed with <paramref name="key"/>.</summary>
    /// <param name="key">The requester's key.</param>
    /// <param name="commonName">The requested common name; the CA decides the real subject.</param>
    /// <returns>The request as a PEM <c>CERTIFICATE REQUEST</c> block.</returns>
    public static string Create(ECDsa key, string commonName)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(commonName);
        var name = new X500DistinguishedNameBuilder();
        name.AddCommonName(commonName);
        return new CertificateRequest(name.Build(), key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
    }
}
