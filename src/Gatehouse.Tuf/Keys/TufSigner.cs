using System.Security.Cryptography;

namespace Gatehouse.Tuf.Keys;

/// <summary>
/// A private key that signs metadata. Root and targets keys can live offline in PEM files
/// (<see cref="FromPemFile"/>); the portal holds only the online timestamp and snapshot keys.
/// </summary>
public sealed class TufSigner : IDisposable
{
    private readonly AsymmetricAlgorithm key;

    private TufSigner(AsymmetricAlgorithm key, TufKey publicKey)
    {
        this.key = key;
        PublicKey = publicKey;
        KeyId = publicKey.ComputeKeyId();
    }

    /// <summary>The public key, as metadata lists it.</summary>
    public TufKey PublicKey { get; }

    /// <summary>The key ID signatures carry.</summary>
    public string KeyId { get; }

    /// <summary>Signs with an ECDSA P-256 key (<c>ecdsa-sha2-nistp256</c>); takes ownership of it.</summary>
    /// <param name="key">The key pair.</param>
    /// <returns>The signer.</returns>
    public static TufSigner Ecdsa(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.KeySize != 256)
        {
            throw new ArgumentException("ecdsa-sha2-nistp256 takes a P-256 key", nameof(key));
        }

        return new TufSigner(key, TufKey.FromEcdsa(key));
    }

    /// <summary>Signs with an RSA key of at least 2048 bits (<c>rsassa-pss-sha256</c>); takes ownership of it.</summary>
    /// <param name="key">The key pair.</param>
    /// <returns>The signer.</returns>
    public static TufSigner RsaPss(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.KeySize < 2048)
        {
            throw new ArgumentException("rsassa-pss-sha256 takes an RSA key of 2048 bits or more", nameof(key));
        }

        return new TufSigner(key, TufKey.FromRsa(key));
    }

    /// <summary>A new ECDSA P-256 key.</summary>
    /// <returns>The signer.</returns>
    public static TufSigner GenerateEcdsa() => Ecdsa(System.Security.Cryptography.ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>Reads a private key in PEM (PKCS#8 or the traditional EC/RSA forms) and picks the scheme by its type.</summary>
    /// <param name="pem">The PEM text.</param>
    /// <returns>The signer.</returns>
    /// <exception cref="TufException">The text holds no private key of a supported type (<see cref="TufFailure.Malformed"/>).</exception>
    public static TufSigner FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var label = pem.Contains("RSA PRIVATE KEY", StringComparison.Ordinal) ? "rsa" : null;
        if (label is null)
        {
            var ecdsa = System.Security.Cryptography.ECDsa.Create();
            try
            {
                ecdsa.ImportFromPem(pem);
                return Ecdsa(ecdsa);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                ecdsa.Dispose();
            }
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return RsaPss(rsa);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new TufException(TufFailure.Malformed, $"no ECDSA P-256 or RSA (2048 bits or more) private key in the PEM text: {e.Message}");
        }
    }

    /// <summary>Reads a private key from a PEM file (see <see cref="FromPem"/>).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The signer.</returns>
    public static TufSigner FromPemFile(string path) => FromPem(File.ReadAllText(path));

    /// <summary>The private key in PKCS#8 PEM, to keep offline.</summary>
    /// <returns>The PEM text.</returns>
    public string ExportPrivateKeyPem() => key switch
    {
        ECDsa ecdsa => ecdsa.ExportPkcs8PrivateKeyPem(),
        RSA rsa => rsa.ExportPkcs8PrivateKeyPem(),
        _ => throw new InvalidOperationException("unknown key type"),
    };

    /// <summary>Signs <paramref name="data"/> (the canonical bytes of a signed part).</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The signature bytes.</returns>
    public byte[] Sign(ReadOnlySpan<byte> data) => key switch
    {
        ECDsa ecdsa => ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
        RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
        _ => throw new InvalidOperationException("unknown key type"),
    };

    /// <inheritdoc/>
    public void Dispose() => key.Dispose();
}
