using System.Text.Json.Nodes;
using Gatehouse.Wire.Config;

namespace Gatehouse.Trust.Bundles;

/// <summary>Makes signed config bundles; used by the portal.</summary>
public static class BundleSigner
{
    /// <summary>
    /// Signs <paramref name="body"/> under <paramref name="header"/>: the signature is ECDSA P-256 SHA-256
    /// (IEEE P1363, base64) over the canonical JSON bytes of the <c>signed</c> object.
    /// </summary>
    /// <param name="header">Tenant, consumer, version and validity of the bundle.</param>
    /// <param name="body">The configuration, a JSON object; it is copied, not taken over.</param>
    /// <param name="key">The signing key.</param>
    /// <returns>The whole document as canonical UTF-8 JSON.</returns>
    /// <exception cref="ArgumentException">The header or body cannot make a valid bundle.</exception>
    /// <exception cref="TrustException">The body holds a value canonical JSON refuses (such as a fraction).</exception>
    public static byte[] Sign(BundleHeader header, JsonNode body, BundleSigningKey key)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(header.Tenant, nameof(header));
        if (!BundleConsumers.IsKnown(header.Consumer))
        {
            throw new ArgumentException($"Unknown bundle consumer \"{header.Consumer}\".", nameof(header));
        }

        if (header.Version <= 0)
        {
            throw new ArgumentException("A bundle version is a positive integer.", nameof(header));
        }

        if (body is not JsonObject)
        {
            throw new ArgumentException("A bundle body is a JSON object.", nameof(body));
        }

        var signed = new JsonObject
        {
            [BundleDocument.Type] = BundleHeader.Type,
            [BundleDocument.Tenant] = header.Tenant,
            [BundleDocument.Consumer] = header.Consumer,
            [BundleDocument.Version] = header.Version,
            [BundleDocument.Issued] = BundleDocument.FormatTime(header.Issued),
            [BundleDocument.Expires] = header.Expires is { } expires ? BundleDocument.FormatTime(expires) : null,
            [BundleDocument.Body] = body.DeepClone(),
        };
        var signature = key.Sign(CanonicalJson.CanonicalJson.Serialize(signed));
        var envelope = new JsonObject
        {
            [BundleDocument.Signed] = signed,
            [BundleDocument.Signatures] = new JsonArray(new JsonObject
            {
                [BundleDocument.KeyId] = key.KeyId,
                [BundleDocument.Sig] = Convert.ToBase64String(signature),
            }),
        };
        return CanonicalJson.CanonicalJson.Serialize(envelope);
    }
}
