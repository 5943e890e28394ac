using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Trust.Certificates;

namespace Gatehouse.Node.Credentials;

/// <summary>
/// Everything an enrolled node holds: its identity, its own P-256 key and certificate, the tenant
/// CA, the tenant's config-signing public key, and how it trusts the portal. Every instance has
/// passed the same checks, whether it came from the portal or from disk: the certificate is for
/// the key, chains directly to the tenant CA, and carries the identity of <see cref="Identity"/>.
/// </summary>
public sealed class NodeCredentials : IDisposable
{
    private const string P256Oid = "1.2.840.10045.3.1.7";

    private NodeCredentials(NodeIdentity identity, PortalTrust portalTrust, ECDsa key, X509Certificate2 certificate, X509Certificate2 tenantCa, byte[] configKeySpki)
    {
        Identity = identity;
        PortalTrust = portalTrust;
        Key = key;
        Certificate = certificate;
        TenantCa = tenantCa;
        ConfigKeySpki = configKeySpki;
    }

    /// <summary>Who the node is and where it follows its tenant.</summary>
    public NodeIdentity Identity { get; }

    /// <summary>What the portal's TLS certificate must chain to.</summary>
    public PortalTrust PortalTrust { get; }

    /// <summary>The node's certificate, without its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The tenant CA that issued <see cref="Certificate"/>.</summary>
    public X509Certificate2 TenantCa { get; }

    /// <summary>The public key (SubjectPublicKeyInfo DER) that signs the tenant's config bundles.</summary>
    public ReadOnlyMemory<byte> ConfigKeySpki { get; }

    /// <summary>The node certificate's start of validity.</summary>
    public DateTimeOffset NotBefore => new(Certificate.NotBefore.ToUniversalTime());

    /// <summary>The node certificate's end of validity.</summary>
    public DateTimeOffset NotAfter => new(Certificate.NotAfter.ToUniversalTime());

    /// <summary>The node's private key; it never leaves the node.</summary>
    internal ECDsa Key { get; }

    /// <summary>
    /// Checks and assembles credentials. The key is taken over: it is disposed with the credentials,
    /// or at once when the checks fail.
    /// </summary>
    /// <param name="identity">Who the node is.</param>
    /// <param name="portalTrust">How the node trusts the portal.</param>
    /// <param name="key">The node's P-256 private key.</param>
    /// <param name="certificatePem">The node's certificate.</param>
    /// <param name="tenantCaPem">The tenant CA certificate.</param>
    /// <param name="configKeyPem">The tenant's config-signing public key, a PEM <c>PUBLIC KEY</c> block.</param>
    /// <returns>The credentials; the caller disposes them.</returns>
    /// <exception cref="NodeException">A part is unreadable or the parts do not belong together (<see cref="NodeErrorReason.InvalidAnswer"/>).</exception>
    public static NodeCredentials Create(NodeIdentity identity, PortalTrust portalTrust, ECDsa key, string certificatePem, string tenantCaPem, string configKeyPem) =>
        Create(identity, portalTrust, key, certificatePem, tenantCaPem, configKeyPem, NodeErrorReason.InvalidAnswer, "The portal's answer");

    /// <summary>Whether to renew now: when less than a third of the certificate's lifetime remains.</summary>
    /// <param name="now">The current time.</param>
    /// <returns><see langword="true"/> when the certificate should be renewed.</returns>
    public bool ShouldRenew(DateTimeOffset now) => now >= NotAfter - ((NotAfter - NotBefore) / 3);

    /// <summary>
    /// The certificate with its private key, ready for TLS (client certificate towards the portal and
    /// edges, server certificate on an edge). Re-imported through PKCS#12 so that SslStream on Linux
    /// can use the key. The caller disposes it.
    /// </summary>
    /// <returns>A new certificate instance with the private key.</returns>
    public X509Certificate2 CreateCertificateWithKey()
    {
        using var withKey = Certificate.CopyWithPrivateKey(Key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Key.Dispose();
        Certificate.Dispose();
        TenantCa.Dispose();
    }

    /// <summary>Checks and assembles credentials; failures are <paramref name="reason"/>, described as coming from <paramref name="source"/>.</summary>
    internal static NodeCredentials Create(
        NodeIdentity identity, PortalTrust portalTrust, ECDsa key, string certificatePem, string tenantCaPem, string configKeyPem, NodeErrorReason reason, string source)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(portalTrust);
        ArgumentNullException.ThrowIfNull(key);
        X509Certificate2? certificate = null;
        X509Certificate2? ca = null;
        try
        {
            if (!IsP256(key))
            {
                throw new NodeException(reason, $"{source}: the node key is not an EC P-256 key.");
            }

            certificate = ReadCertificate(certificatePem, reason, $"{source}: the node certificate");
            ca = ReadCertificate(tenantCaPem, reason, $"{source}: the tenant CA certificate");
            var configKeySpki = ReadConfigKey(configKeyPem, reason, source);

            if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new NodeException(reason, $"{source}: the node certificate is not for the node's key.");
            }

            if (!ChainsDirectlyTo(certificate, ca))
            {
                throw new NodeException(reason, $"{source}: the node certificate is not issued by the tenant CA.");
            }

            var expected = identity.CertificateIdentity;
            var actual = CertificateIdentity.FromCertificate(certificate);
            if (actual != expected)
            {
                throw new NodeException(reason, $"{source}: the node certificate names {actual?.ToUriString() ?? "no Gatehouse identity"}, not {expected.ToUriString()}.");
            }

            return new NodeCredentials(identity, portalTrust, key, certificate, ca, configKeySpki);
        }
        catch
        {
            key.Dispose();
            certificate?.Dispose();
            ca?.Dispose();
            throw;
        }
    }

    internal string ConfigKeyPem => PemEncoding.WriteString("PUBLIC KEY", ConfigKeySpki.Span);

    private static X509Certificate2 ReadCertificate(string pem, NodeErrorReason reason, string what)
    {
        try
        {
            using var parsed = X509Certificate2.CreateFromPem(pem);
            return X509CertificateLoader.LoadCertificate(parsed.RawData);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new NodeException(reason, $"{what} is not a readable PEM certificate.");
        }
    }

    private static byte[] ReadConfigKey(string pem, NodeErrorReason reason, string source)
    {
        try
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(pem);
            if (!IsP256(key))
            {
                throw new NodeException(reason, $"{source}: the config-signing key is not an EC P-256 key.");
            }

            return key.ExportSubjectPublicKeyInfo();
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new NodeException(reason, $"{source}: the config-signing key is not a readable PEM public key.");
        }
    }

    private static bool ChainsDirectlyTo(X509Certificate2 leaf, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        // Structure, not time: an expired certificate still belongs to the node, which then renews or re-enrolls.
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
        try
        {
            return chain.Build(leaf)
                && chain.ChainElements.Count == 2
                && chain.ChainElements[1].Certificate.RawData.AsSpan().SequenceEqual(ca.RawData);
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    internal static bool IsP256(ECDsa key)
    {
        var curve = key.ExportParameters(includePrivateParameters: false).Curve;
        return curve.IsNamed && (curve.Oid.Value == P256Oid || curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256" or "secp256r1");
    }
}
