using System.Text.Json.Nodes;
using Gatehouse.Trust;
using Gatehouse.Trust.CanonicalJson;

namespace Gatehouse.Tuf.Json;

/// <summary>
/// The canonical JSON TUF signs over, as its reference implementations write it (OLPC canonical
/// JSON, securesystemslib's <c>encode_canonical</c>): object keys sorted by code point, no
/// whitespace, integers only, and strings escaped only where they must be (<c>\</c> and <c>"</c>).
/// That last point is where it differs from RFC 8785, which escapes control characters; signatures
/// made by other TUF tools only verify over these bytes. The writing itself is
/// <see cref="Trust.CanonicalJson.CanonicalJson"/>'s, with <see cref="CanonicalStrings.QuoteAndBackslashOnly"/>.
/// </summary>
public static class TufCanonicalJson
{
    /// <summary>Parses metadata strictly: no duplicate keys, no comments, integers only.</summary>
    /// <param name="utf8Json">The bytes.</param>
    /// <returns>The parsed value.</returns>
    /// <exception cref="TufException">The bytes are not such JSON (<see cref="TufFailure.Malformed"/>).</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            return Trust.CanonicalJson.CanonicalJson.Parse(utf8Json);
        }
        catch (TrustException e)
        {
            throw new TufException(TufFailure.Malformed, e.Message, e);
        }
    }

    /// <summary>Writes <paramref name="node"/> in canonical form.</summary>
    /// <param name="node">The value.</param>
    /// <returns>The canonical UTF-8 bytes.</returns>
    /// <exception cref="TufException">The value holds a number that is not an integer, or a string that is not valid Unicode.</exception>
    public static byte[] Encode(JsonNode? node)
    {
        try
        {
            return Trust.CanonicalJson.CanonicalJson.Serialize(node, CanonicalStrings.QuoteAndBackslashOnly);
        }
        catch (TrustException e)
        {
            throw new TufException(TufFailure.Malformed, e.Message, e);
        }
    }
}
