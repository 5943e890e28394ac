using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Trust;

namespace Gatehouse.Tuf.Json;

/// <summary>
/// The canonical JSON TUF signs over, as its reference implementations write it (OLPC canonical
/// JSON, securesystemslib's <c>encode_canonical</c>): object keys sorted by code point, no
/// whitespace, integers only, and strings escaped only where they must be (<c>\</c> and <c>"</c>).
/// That last point is where it differs from <see cref="Trust.CanonicalJson.CanonicalJson"/>, which
/// escapes control characters as RFC 8785 does; signatures made by other TUF tools only verify
/// over these bytes.
/// </summary>
public static class TufCanonicalJson
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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
        var output = new MemoryStream();
        Write(output, node, 0);
        return output.ToArray();
    }

    private static void Write(MemoryStream output, JsonNode? node, int depth)
    {
        if (depth > Trust.CanonicalJson.CanonicalJson.MaxDepth)
        {
            throw new TufException(TufFailure.Malformed, "metadata nests too deeply");
        }

        switch (node)
        {
            case null:
                output.Write("null"u8);
                return;
            case JsonObject obj:
                var keys = new List<string>(obj.Count);
                foreach (var pair in obj)
                {
                    keys.Add(pair.Key);
                }

                keys.Sort(CodePointOrder);
                output.WriteByte((byte)'{');
                for (var i = 0; i < keys.Count; i++)
                {
                    if (i > 0)
                    {
                        output.WriteByte((byte)',');
                    }

                    WriteString(output, keys[i]);
                    output.WriteByte((byte)':');
                    Write(output, obj[keys[i]], depth + 1);
                }

                output.WriteByte((byte)'}');
                return;
            case JsonArray array:
                output.WriteByte((byte)'[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        output.WriteByte((byte)',');
                    }

                    Write(output, array[i], depth + 1);
                }

                output.WriteByte((byte)']');
                return;
            case JsonValue value:
                WriteScalar(output, value);
                return;
        }
    }

    private static void WriteScalar(MemoryStream output, JsonValue value)
    {
        if (value.TryGetValue<string>(out var text))
        {
            WriteString(output, text);
        }
        else if (value.TryGetValue<bool>(out var flag))
        {
            output.Write(flag ? "true"u8 : "false"u8);
        }
        else if (value.TryGetValue<long>(out var integer))
        {
            output.Write(Encoding.ASCII.GetBytes(integer.ToString(CultureInfo.InvariantCulture)));
        }
        else if (value.TryGetValue<int>(out var small))
        {
            output.Write(Encoding.ASCII.GetBytes(small.ToString(CultureInfo.InvariantCulture)));
        }
        else
        {
            // Anything else (a double, a JsonElement) goes through the strict parser, which keeps integers only.
            var reparsed = Parse(Encoding.UTF8.GetBytes(value.ToJsonString()));
            if (reparsed is not JsonValue plain || plain.TryGetValue<double>(out _))
            {
                throw new TufException(TufFailure.Malformed, $"canonical JSON cannot carry the value {value.ToJsonString()}");
            }

            WriteScalar(output, plain);
        }
    }

    private static void WriteString(MemoryStream output, string value)
    {
        byte[] utf8;
        try
        {
            utf8 = StrictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException)
        {
            throw new TufException(TufFailure.Malformed, "canonical JSON carries valid Unicode strings only");
        }

        output.WriteByte((byte)'"');
        foreach (var b in utf8)
        {
            if (b is (byte)'"' or (byte)'\\')
            {
                output.WriteByte((byte)'\\');
            }

            output.WriteByte(b);
        }

        output.WriteByte((byte)'"');
    }

    /// <summary>Orders strings by Unicode code point, as Python sorts them.</summary>
    internal static int CodePointOrder(string? x, string? y) => string.CompareOrdinal(Weigh(x), Weigh(y));

    // Code point order equals UTF-16 order except where surrogates meet U+E000..U+FFFF; such keys do
    // not occur in TUF metadata, but sorting them right costs little.
    private static string? Weigh(string? s)
    {
        if (s is null || !s.AsSpan().ContainsAnyInRange('\uD800', '\uFFFF'))
        {
            return s;
        }

        return string.Create(s.Length, s, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                span[i] = c switch
                {
                    >= '\uE000' => (char)(c - 0x800),
                    >= '\uD800' => (char)(c + 0x2000),
                    _ => c,
                };
            }
        });
    }
}
