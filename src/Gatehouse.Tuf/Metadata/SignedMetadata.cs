using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;
using Gatehouse.Tuf.Keys;

namespace Gatehouse.Tuf.Metadata;

/// <summary>One signature of a metadata file: the key ID and the signature bytes in hex.</summary>
/// <param name="KeyId">The key ID.</param>
/// <param name="Value">The signature, hex-encoded.</param>
public sealed record TufSignature(string KeyId, string Value);

/// <summary>
/// A metadata file: <c>{"signatures": [...], "signed": {...}}</c>. The signed part is kept as it
/// was read, unknown fields included, so signatures are checked over exactly what the repository
/// signed and a stored copy keeps everything.
/// </summary>
public sealed class SignedMetadata
{
    private byte[]? canonicalSigned;

    private SignedMetadata(JsonObject signed, IReadOnlyList<TufSignature> signatures)
    {
        Signed = signed;
        Signatures = signatures;
    }

    /// <summary>The signed part, as read.</summary>
    public JsonObject Signed { get; }

    /// <summary>The signatures, as read.</summary>
    public IReadOnlyList<TufSignature> Signatures { get; }

    /// <summary>The <c>_type</c> of the signed part.</summary>
    public string Type => Fields.String(Signed, "_type", "signed");

    /// <summary>The bytes signatures are made over: the canonical JSON of the signed part.</summary>
    public ReadOnlySpan<byte> CanonicalSigned => canonicalSigned ??= TufCanonicalJson.Encode(Signed);

    /// <summary>Reads a metadata file.</summary>
    /// <param name="utf8Json">The file's bytes.</param>
    /// <returns>The metadata; its signatures are not yet checked.</returns>
    /// <exception cref="TufException">The file is not metadata (<see cref="TufFailure.Malformed"/>).</exception>
    public static SignedMetadata Parse(ReadOnlySpan<byte> utf8Json)
    {
        var root = Fields.Object(TufCanonicalJson.Parse(utf8Json), "metadata");
        var signed = Fields.Object(root, "signed", "metadata");
        var list = Fields.Array(root, "signatures", "metadata");
        var signatures = new List<TufSignature>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var where = $"signatures[{i}]";
            var item = Fields.Object(list[i], where);
            signatures.Add(new TufSignature(Fields.String(item, "keyid", where), Fields.String(item, "sig", where)));
        }

        foreach (var pair in root)
        {
            if (pair.Key is not ("signed" or "signatures"))
            {
                throw Fields.Malformed($"metadata has an unknown top-level field \"{pair.Key}\"");
            }
        }

        // Detach the signed part from its parent, so that it can be used on its own.
        root.Remove("signed");
        return new SignedMetadata(signed, signatures);
    }

    /// <summary>Signs <paramref name="signed"/> with each signer and writes the metadata file.</summary>
    /// <param name="signed">The signed part.</param>
    /// <param name="signers">The keys to sign with.</param>
    /// <returns>The file's bytes.</returns>
    public static byte[] Sign(JsonObject signed, IEnumerable<TufSigner> signers)
    {
        ArgumentNullException.ThrowIfNull(signed);
        ArgumentNullException.ThrowIfNull(signers);
        var canonical = TufCanonicalJson.Encode(signed);
        var signatures = new JsonArray();
        foreach (var signer in signers)
        {
            signatures.Add(new JsonObject { ["keyid"] = signer.KeyId, ["sig"] = Convert.ToHexStringLower(signer.Sign(canonical)) });
        }

        return Write(signed, signatures);
    }

    /// <summary>Writes metadata with the given signatures as they are (tests use it to forge files).</summary>
    /// <param name="signed">The signed part.</param>
    /// <param name="signatures">The signatures.</param>
    /// <returns>The file's bytes.</returns>
    public static byte[] Write(JsonObject signed, JsonArray signatures)
    {
        var document = new JsonObject
        {
            ["signatures"] = signatures.DeepClone(),
            ["signed"] = signed.DeepClone(),
        };
        using var output = new MemoryStream();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true }))
        {
            document.WriteTo(writer);
        }

        return output.ToArray();
    }

    /// <summary>
    /// Checks that at least <paramref name="role"/>'s threshold of its keys signed this metadata.
    /// A key counts once however many signatures carry its ID, and two IDs for the same key
    /// material count once.
    /// </summary>
    /// <param name="roleName">The role's name, for the error.</param>
    /// <param name="keys">The keys the delegating metadata lists.</param>
    /// <param name="role">The role's key IDs and threshold.</param>
    /// <exception cref="TufException">Too few valid signatures (<see cref="TufFailure.Unsigned"/>).</exception>
    public void VerifyThreshold(string roleName, IReadOnlyDictionary<string, TufKey> keys, RoleKeys role)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(role);
        var counted = new HashSet<string>(StringComparer.Ordinal);
        var keysUsed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var signature in Signatures)
        {
            if (counted.Contains(signature.KeyId) || !role.KeyIds.Contains(signature.KeyId) || !keys.TryGetValue(signature.KeyId, out var key))
            {
                continue;
            }

            byte[] bytes;
            try
            {
                bytes = Convert.FromHexString(signature.Value);
            }
            catch (FormatException)
            {
                continue;
            }

            if (key.Verify(CanonicalSigned, bytes) && keysUsed.Add(key.Fingerprint))
            {
                counted.Add(signature.KeyId);
            }
        }

        if (counted.Count < role.Threshold)
        {
            throw new TufException(TufFailure.Unsigned, $"{roleName} is signed by {counted.Count} of the {KeyCount.Of(role.Threshold)} it needs");
        }
    }
}
