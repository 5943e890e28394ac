using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;

namespace Gatehouse.Tuf.Keys;

/// <summary>
/// A public key as TUF metadata lists it: <c>{"keytype", "scheme", "keyval": {"public"}}</c>.
/// Two schemes verify, with the BCL: <c>ecdsa-sha2-nistp256</c> (a P-256 key in PEM, DER
/// signatures) and <c>rsassa-pss-sha256</c> (an RSA key in PEM, PSS with a salt as long as the
/// hash). A key of any other scheme is kept but never verifies a signature, so it can never help
/// reach a threshold.
/// </summary>
public sealed class TufKey
{
    /// <summary>The ECDSA scheme.</summary>
    public const string EcdsaScheme = "ecdsa-sha2-nistp256";

    /// <summary>The RSA-PSS scheme.</summary>
    public const string RsaPssScheme = "rsassa-pss-sha256";

    private readonly JsonObject json;

    private TufKey(string keyType, string scheme, string publicKey, JsonObject json)
    {
        KeyType = keyType;
        Scheme = scheme;
        PublicKey = publicKey;
        this.json = json;
        Fingerprint = MakeFingerprint();
    }

    /// <summary>The key type (<c>ecdsa</c>, <c>rsa</c>, ...).</summary>
    public string KeyType { get; }

    /// <summary>The signature scheme.</summary>
    public string Scheme { get; }

    /// <summary>The public key as listed (PEM for the supported schemes).</summary>
    public string PublicKey { get; }

    /// <summary>
    /// What identifies the key material itself, whatever key ID it is listed under: two IDs for
    /// one key count once towards a threshold.
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>Reads a key object.</summary>
    /// <param name="node">The JSON.</param>
    /// <param name="where">Where it sits, for error messages.</param>
    /// <returns>The key.</returns>
    public static TufKey FromJson(JsonNode? node, string where)
    {
        var obj = Fields.Object(node, where);
        var keyval = Fields.Object(obj, "keyval", where);
        return new TufKey(
            Fields.String(obj, "keytype", where),
            Fields.String(obj, "scheme", where),
            Fields.String(keyval, "public", $"{where}.keyval"),
            obj);
    }

    /// <summary>The key of an ECDSA P-256 key pair.</summary>
    /// <param name="key">The key (its private part is not read).</param>
    /// <returns>The public key.</returns>
    public static TufKey FromEcdsa(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Create("ecdsa", EcdsaScheme, key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>The key of an RSA key pair.</summary>
    /// <param name="key">The key (its private part is not read).</param>
    /// <returns>The public key.</returns>
    public static TufKey FromRsa(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Create("rsa", RsaPssScheme, key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>A key of any type and scheme, as metadata would list it.</summary>
    /// <param name="keyType">The key type.</param>
    /// <param name="scheme">The scheme.</param>
    /// <param name="publicKey">The public value.</param>
    /// <returns>The key.</returns>
    public static TufKey Create(string keyType, string scheme, string publicKey) =>
        new(keyType, scheme, publicKey, new JsonObject
        {
            ["keytype"] = keyType,
            ["scheme"] = scheme,
            ["keyval"] = new JsonObject { ["public"] = publicKey },
        });

    /// <summary>The key as metadata lists it, with any fields it was read with.</summary>
    /// <returns>A fresh copy.</returns>
    public JsonObject ToJson() => (JsonObject)json.DeepClone();

    /// <summary>The key ID the specification defines: the SHA-256 of the key's canonical JSON, in hex.</summary>
    /// <returns>The key ID.</returns>
    public string ComputeKeyId() => Convert.ToHexStringLower(SHA256.HashData(TufCanonicalJson.Encode(json)));

    /// <summary>Checks one signature over <paramref name="data"/>.</summary>
    /// <param name="data">The canonical bytes of the signed part.</param>
    /// <param name="signature">The signature bytes.</param>
    /// <returns>Whether the signature is valid for this key; <see langword="false"/> for a scheme this build cannot verify.</returns>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            switch (Scheme)
            {
                case EcdsaScheme when KeyType is "ecdsa" or EcdsaScheme:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportFromPem(PublicKey);
                        return IsP256(ecdsa) && ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
                    }

                case RsaPssScheme when KeyType is "rsa":
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportFromPem(PublicKey);
                        return rsa.KeySize >= 2048 && rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
                    }

                default:
                    return false;
            }
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // A key that does not import, or a signature that is not DER, verifies nothing.
            return false;
        }
    }

    private static bool IsP256(ECDsa key)
    {
        var curve = key.ExportParameters(includePrivateParameters: false).Curve;
        return curve.IsNamed && (curve.Oid.Value == "1.2.840.10045.3.1.7" || curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256" or "secp256r1");
    }

    private string MakeFingerprint()
    {
        try
        {
            if (PublicKey.Contains("-----BEGIN", StringComparison.Ordinal))
            {
                // The DER bytes, so that the same key in differently wrapped PEM is still one key.
                var pem = PemEncoding.Find(PublicKey);
                var der = Convert.FromBase64String(PublicKey[pem.Base64Data]);
                return $"{KeyType}:{Convert.ToHexStringLower(SHA256.HashData(der))}";
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // Not PEM after all: fall through to the text itself.
        }

        return $"{KeyType}:{PublicKey}";
    }
}
