using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Node.Credentials;

/// <summary>
/// What the portal's TLS certificate must chain to: one CA certificate pinned at enrollment
/// (the portal's self-signed <c>tls.crt</c>, or the CA that issued it), or the system's roots.
/// </summary>
public sealed class PortalTrust
{
    private PortalTrust(string? caCertificatePem) => CaCertificatePem = caCertificatePem;

    /// <summary>Trust the operating system's root certificates, for a portal with a publicly trusted certificate.</summary>
    public static PortalTrust SystemRoots { get; } = new(null);

    /// <summary>The pinned CA certificate as PEM, or <see langword="null"/> for <see cref="SystemRoots"/>.</summary>
    public string? CaCertificatePem { get; }

    /// <summary>Whether the system's roots are trusted instead of a pinned certificate.</summary>
    public bool IsSystemRoots => CaCertificatePem is null;

    /// <summary>Trust exactly one CA certificate (and nothing else) for the portal's TLS.</summary>
    /// <param name="caCertificatePem">The certificate as a PEM <c>CERTIFICATE</c> block.</param>
    /// <returns>The trust.</returns>
    /// <exception cref="ArgumentException">The text is not one readable PEM certificate.</exception>
    public static PortalTrust Pinned(string caCertificatePem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(caCertificatePem);
        try
        {
            using var certificate = X509Certificate2.CreateFromPem(caCertificatePem);
            return new PortalTrust(certificate.ExportCertificatePem());
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException("The portal CA is not a readable PEM certificate.", nameof(caCertificatePem), e);
        }
    }

    /// <summary>Loads the pinned CA certificate; the caller disposes it.</summary>
    /// <returns>The certificate, or <see langword="null"/> for <see cref="SystemRoots"/>.</returns>
    internal X509Certificate2? LoadCertificate()
    {
        if (CaCertificatePem is null)
        {
            return null;
        }

        using var parsed = X509Certificate2.CreateFromPem(CaCertificatePem);
        return X509CertificateLoader.LoadCertificate(parsed.RawData);
    }
}
