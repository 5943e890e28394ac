using System.Security.Cryptography;

namespace Gatehouse.Trust.Bundles;

/// <summary>An ECDSA P-256 private key that signs config bundles.</summary>
public sealed class BundleSigningKey : IDisposable
{
    private readonly ECDsa _key;
    private readonly byte[] _spki;

    private BundleSigningKey(ECDsa key)
    {
        _key = key;
        _spki = key.ExportSubjectPublicKeyInfo();
        KeyId = ComputeKeyId(_spki);
    }

    /// <summary>The key id signatures carry: lowercase hex SHA-256 of <see cref="PublicKeySpki"/>.</summary>
    public string KeyId { get; }

    /// <summary>The public key as SubjectPublicKeyInfo DER, which verifiers trust.</summary>
    public byte[] PublicKeySpki => (byte[])_spki.Clone();

    /// <summary>The public key as a PEM <c>PUBLIC KEY</c> block.</summary>
    public string PublicKeyPem => PemEncoding.WriteString("PUBLIC KEY", _spki);

    /// <summary>Makes a new random key.</summary>
    /// <returns>The key; the caller disposes it.</returns>
    public static BundleSigningKey Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Loads a key from unencrypted PKCS#8 DER.</summary>
    /// <param name="pkcs8">The private key.</param>
    /// <returns>The key; the caller disposes it.</returns>
    /// <exception cref="TrustException">The bytes are not an EC P-256 PKCS#8 private key.</exception>
    public static BundleSigningKey FromPkcs8(ReadOnlySpan<byte> pkcs8)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length || !P256.Is(key))
            {
                throw new TrustException("The bundle signing key is not a lone EC P-256 PKCS#8 private key.");
            }

            return new BundleSigningKey(key);
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new TrustException("The bundle signing key is not a readable PKCS#8 private key.");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The key id of a public key: lowercase hex SHA-256 of its SubjectPublicKeyInfo DER.</summary>
    /// <param name="publicKeySpki">The public key.</param>
    /// <returns>64 lowercase hex digits.</returns>
    public static string ComputeKeyId(ReadOnlySpan<byte> publicKeySpki) => Convert.ToHexStringLower(SHA256.HashData(publicKeySpki));

    /// <summary>Exports the private key as unencrypted PKCS#8 DER; store it readable by its owner only.</summary>
    /// <returns>The private key.</returns>
    public byte[] ExportPkcs8() => _key.ExportPkcs8PrivateKey();

    /// <inheritdoc/>
    public void Dispose() => _key.Dispose();

    internal byte[] Sign(ReadOnlySpan<byte> data) =>
        _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
}
