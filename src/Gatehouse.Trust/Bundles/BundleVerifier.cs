using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Wire.Config;

namespace Gatehouse.Trust.Bundles;

/// <summary>
/// Checks config bundles for one tenant and one kind of consumer against a set of trusted keys.
/// Refusals are values, not exceptions: the caller keeps the bundle in force and logs the reason.
/// </summary>
/// <remarks>
/// The verifier remembers the signed content of the last bundle it accepted, so that a bundle of
/// the version in force is accepted as "unchanged" when identical and refused as a conflict when not.
/// Instances are safe to share between threads.
/// </remarks>
public sealed class BundleVerifier
{
    private readonly Dictionary<string, ECParameters> _keys = new(StringComparer.Ordinal);
    private readonly string _tenant;
    private readonly string _consumer;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private (long Version, byte[] SignedDigest)? _lastAccepted;

    /// <summary>Creates a verifier.</summary>
    /// <param name="trustedPublicKeysSpki">The EC P-256 public keys (SubjectPublicKeyInfo DER) whose signatures count.</param>
    /// <param name="tenant">The tenant this consumer belongs to.</param>
    /// <param name="consumer">Who is verifying; one of <see cref="BundleConsumers"/>.</param>
    /// <param name="time">The clock that decides expiry.</param>
    /// <exception cref="ArgumentException">No key is given, or the tenant or consumer is not valid.</exception>
    /// <exception cref="TrustException">A key is not an EC P-256 SubjectPublicKeyInfo.</exception>
    public BundleVerifier(IEnumerable<ReadOnlyMemory<byte>> trustedPublicKeysSpki, string tenant, string consumer, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(trustedPublicKeysSpki);
        ArgumentException.ThrowIfNullOrWhiteSpace(tenant);
        ArgumentNullException.ThrowIfNull(time);
        if (!BundleConsumers.IsKnown(consumer))
        {
            throw new ArgumentException($"Unknown bundle consumer \"{consumer}\".", nameof(consumer));
        }

        foreach (var spki in trustedPublicKeysSpki)
        {
            using var key = ECDsa.Create();
            try
            {
                key.ImportSubjectPublicKeyInfo(spki.Span, out var read);
                if (read != spki.Length)
                {
                    throw new TrustException("A trusted bundle key has bytes after its SubjectPublicKeyInfo.");
                }
            }
            catch (CryptographicException)
            {
                throw new TrustException("A trusted bundle key is not an EC SubjectPublicKeyInfo.");
            }

            if (!P256.Is(key))
            {
                throw new TrustException("A trusted bundle key is not on curve P-256.");
            }

            _keys[BundleSigningKey.ComputeKeyId(key.ExportSubjectPublicKeyInfo())] = key.ExportParameters(includePrivateParameters: false);
        }

        if (_keys.Count == 0)
        {
            throw new ArgumentException("At least one trusted bundle key is needed.", nameof(trustedPublicKeysSpki));
        }

        _tenant = tenant;
        _consumer = consumer;
        _time = time;
    }

    /// <summary>Verifies a bundle document.</summary>
    /// <param name="document">The document as received.</param>
    /// <param name="currentVersion">The version in force, or <see langword="null"/> when there is none
    /// (such as when re-checking the last-known-good copy at start-up).</param>
    /// <returns>The outcome; <see cref="BundleVerification.IsValid"/> says whether to put it in force.</returns>
    /// <remarks>A bundle of version <paramref name="currentVersion"/> is accepted only if this verifier
    /// accepted the same signed content last; otherwise use <see cref="VerifyAgainst"/>.</remarks>
    public BundleVerification Verify(ReadOnlySpan<byte> document, long? currentVersion)
    {
        byte[]? currentDigest = null;
        if (currentVersion is { } version)
        {
            lock (_gate)
            {
                if (_lastAccepted is { } last && last.Version == version)
                {
                    currentDigest = last.SignedDigest;
                }
            }
        }

        return VerifyCore(document, currentVersion, currentDigest);
    }

    /// <summary>
    /// Verifies a bundle document against the bundle in force: like <see cref="Verify(ReadOnlySpan{byte}, long?)"/>,
    /// but an identical bundle of the version in force is recognised by any verifier instance.
    /// </summary>
    /// <param name="document">The document as received.</param>
    /// <param name="current">The bundle in force.</param>
    /// <returns>The outcome; <see cref="BundleVerification.IsValid"/> says whether to put it in force.</returns>
    public BundleVerification VerifyAgainst(ReadOnlySpan<byte> document, VerifiedBundle current)
    {
        ArgumentNullException.ThrowIfNull(current);
        byte[]? currentDigest = null;
        try
        {
            if (CanonicalJson.CanonicalJson.Parse(current.Document) is JsonObject envelope && envelope[BundleDocument.Signed] is JsonObject signed)
            {
                currentDigest = SHA256.HashData(CanonicalJson.CanonicalJson.Serialize(signed));
            }
        }
        catch (TrustException)
        {
            // The bundle in force has unreadable content; a new one of its version then conflicts.
        }

        return VerifyCore(document, current.Header.Version, currentDigest);
    }

    private BundleVerification VerifyCore(ReadOnlySpan<byte> document, long? currentVersion, byte[]? currentDigest)
    {
        JsonNode? root;
        try
        {
            root = CanonicalJson.CanonicalJson.Parse(document);
        }
        catch (TrustException e)
        {
            return Refuse(BundleVerificationStatus.Malformed, $"The bundle is not valid JSON: {e.Message}");
        }

        if (root is not JsonObject envelope || !HasExactly(envelope, BundleDocument.EnvelopeFields))
        {
            return Malformed("The bundle is not an object with exactly the fields \"signed\" and \"signatures\".");
        }

        if (envelope[BundleDocument.Signed] is not JsonObject signed || !HasExactly(signed, BundleDocument.SignedFields))
        {
            return Malformed("The bundle's signed part is not an object with exactly the fields type, tenant, consumer, version, issued, expires and body.");
        }

        if (envelope[BundleDocument.Signatures] is not JsonArray signatureArray || signatureArray.Count == 0)
        {
            return Malformed("The bundle's signatures are not a non-empty array.");
        }

        var signatures = new List<(string KeyId, string Sig)>(signatureArray.Count);
        foreach (var item in signatureArray)
        {
            if (item is not JsonObject sigObject || !HasExactly(sigObject, BundleDocument.SignatureFields)
                || !TryGetString(sigObject, BundleDocument.KeyId, out var keyId) || !TryGetString(sigObject, BundleDocument.Sig, out var sig))
            {
                return Malformed("A bundle signature is not an object with exactly the string fields keyid and sig.");
            }

            signatures.Add((keyId, sig));
        }

        if (!TryGetString(signed, BundleDocument.Type, out var type) || type != BundleHeader.Type)
        {
            return Malformed($"The bundle's type is not {BundleHeader.Type}.");
        }

        if (!TryReadHeader(signed, out var header, out var body, out var headerProblem))
        {
            return Malformed(headerProblem);
        }

        var signedBytes = CanonicalJson.CanonicalJson.Serialize(signed);
        if (CheckSignatures(signedBytes, signatures) is { } signatureRefusal)
        {
            return signatureRefusal;
        }

        if (header.Tenant != _tenant)
        {
            return Refuse(BundleVerificationStatus.WrongTenant, $"The bundle is for tenant \"{header.Tenant}\", not \"{_tenant}\".");
        }

        if (header.Consumer != _consumer)
        {
            return Refuse(BundleVerificationStatus.WrongConsumer, $"The bundle is for the {header.Consumer}, not the {_consumer}.");
        }

        var signedDigest = SHA256.HashData(signedBytes);
        if (currentVersion is { } current)
        {
            if (header.Version < current)
            {
                return Refuse(BundleVerificationStatus.VersionRollback, $"The bundle's version {header.Version} is older than version {current} in force.");
            }

            if (header.Version == current && (currentDigest is null || !CryptographicOperations.FixedTimeEquals(currentDigest, signedDigest)))
            {
                return Refuse(BundleVerificationStatus.VersionConflict, $"The bundle has version {current}, the version in force, but not the same content.");
            }
        }

        if (header.Expires is { } expires && expires <= _time.GetUtcNow())
        {
            return Refuse(BundleVerificationStatus.Expired, $"The bundle expired at {BundleDocument.FormatTime(expires)}.");
        }

        lock (_gate)
        {
            _lastAccepted = (header.Version, signedDigest);
        }

        return new BundleVerification(BundleVerificationStatus.Valid, null, new VerifiedBundle(header, body, document.ToArray()));
    }

    private BundleVerification? CheckSignatures(byte[] signedBytes, List<(string KeyId, string Sig)> signatures)
    {
        var claimsTrustedKey = false;
        foreach (var (keyId, sig) in signatures)
        {
            if (!_keys.TryGetValue(keyId, out var parameters))
            {
                continue;
            }

            claimsTrustedKey = true;
            var raw = new byte[64];
            if (!Convert.TryFromBase64String(sig, raw, out var written) || written != raw.Length)
            {
                continue;
            }

            using var key = ECDsa.Create(parameters);
            if (key.VerifyData(signedBytes, raw, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return null;
            }
        }

        return claimsTrustedKey
            ? Refuse(BundleVerificationStatus.BadSignature, "The bundle's signature by a trusted key does not verify.")
            : Refuse(BundleVerificationStatus.UnknownKey, "The bundle is not signed by any trusted key.");
    }

    private static bool TryReadHeader(JsonObject signed, out BundleHeader header, out JsonObject body, out string problem)
    {
        header = null!;
        body = null!;
        if (!TryGetString(signed, BundleDocument.Tenant, out var tenant) || tenant.Length == 0)
        {
            problem = "The bundle's tenant is not a non-empty string.";
            return false;
        }

        if (!TryGetString(signed, BundleDocument.Consumer, out var consumer) || !BundleConsumers.IsKnown(consumer))
        {
            problem = "The bundle's consumer is not agent, edge or connector.";
            return false;
        }

        if (signed[BundleDocument.Version] is not JsonValue versionValue || !versionValue.TryGetValue<long>(out var version) || version <= 0)
        {
            problem = "The bundle's version is not a positive integer.";
            return false;
        }

        if (!TryGetString(signed, BundleDocument.Issued, out var issuedText) || !BundleDocument.TryParseTime(issuedText, out var issued))
        {
            problem = "The bundle's issued time is not an RFC 3339 UTC time.";
            return false;
        }

        DateTimeOffset? expires = null;
        if (signed[BundleDocument.Expires] is not null)
        {
            if (!TryGetString(signed, BundleDocument.Expires, out var expiresText) || !BundleDocument.TryParseTime(expiresText, out var parsed))
            {
                problem = "The bundle's expiry time is neither null nor an RFC 3339 UTC time.";
                return false;
            }

            expires = parsed;
        }

        if (signed[BundleDocument.Body] is not JsonObject bodyObject)
        {
            problem = "The bundle's body is not a JSON object.";
            return false;
        }

        header = new BundleHeader(tenant, consumer, version, issued, expires);
        body = (JsonObject)bodyObject.DeepClone();
        problem = "";
        return true;
    }

    private static bool HasExactly(JsonObject obj, string[] fields)
    {
        if (obj.Count != fields.Length)
        {
            return false;
        }

        foreach (var field in fields)
        {
            if (!obj.ContainsKey(field))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryGetString(JsonObject obj, string field, out string value)
    {
        if (obj[field] is JsonValue v && v.TryGetValue<string>(out var s))
        {
            value = s;
            return true;
        }

        value = "";
        return false;
    }

    private static BundleVerification Malformed(string reason) => Refuse(BundleVerificationStatus.Malformed, reason);

    private static BundleVerification Refuse(BundleVerificationStatus status, string reason) => new(status, reason, null);
}
