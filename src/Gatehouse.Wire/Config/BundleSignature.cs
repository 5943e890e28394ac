using System.Text.Json.Serialization;

namespace Gatehouse.Wire.Config;

/// <summary>One signature over the canonical JSON bytes of a config bundle's <c>signed</c> object.</summary>
/// <param name="KeyId">Lowercase hex SHA-256 of the signing key's SubjectPublicKeyInfo DER.</param>
/// <param name="Sig">Base64 ECDSA P-256 SHA-256 signature in IEEE P1363 form (r || s, 64 bytes).</param>
public sealed record BundleSignature(
    [property: JsonPropertyName("keyid")] string KeyId,
    [property: JsonPropertyName("sig")] string Sig);
