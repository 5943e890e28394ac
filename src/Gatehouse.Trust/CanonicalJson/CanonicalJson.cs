using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.Trust.CanonicalJson;

/// <summary>How canonical JSON escapes strings; everything else (key order, no whitespace, integers only) is the same.</summary>
public enum CanonicalStrings
{
    /// <summary>RFC 8785: quote, backslash and every control character (as <c>\n</c>, <c>\u001f</c> and so on).</summary>
    Rfc8785,

    /// <summary>OLPC canonical JSON, as TUF signs it (securesystemslib): quote and backslash only; control characters as they are.</summary>
    QuoteAndBackslashOnly,
}

/// <summary>
/// Canonical JSON in the manner of RFC 8785, restricted to integer numbers: object keys sorted
/// by Unicode code point, no insignificant whitespace, minimal string escaping. Signatures are
/// made and checked over these bytes, so two parties that agree on a value agree on its bytes.
/// </summary>
public static class CanonicalJson
{
    /// <summary>How deeply documents may nest; deeper input is refused rather than risking the stack.</summary>
    public const int MaxDepth = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes <paramref name="node"/> in canonical form.</summary>
    /// <param name="node">The value to write; <see langword="null"/> writes the JSON literal <c>null</c>.</param>
    /// <returns>The canonical UTF-8 bytes.</returns>
    /// <exception cref="TrustException">The value holds a non-integer number, an integer outside the
    /// 64-bit signed range, a string that is not valid Unicode, or nests deeper than <see cref="MaxDepth"/>.</exception>
    public static byte[] Serialize(JsonNode? node) => Serialize(node, CanonicalStrings.Rfc8785);

    /// <summary>Writes <paramref name="node"/> in canonical form with the given string escaping.</summary>
    /// <param name="node">The value to write; <see langword="null"/> writes the JSON literal <c>null</c>.</param>
    /// <param name="strings">How strings are escaped.</param>
    /// <returns>The canonical UTF-8 bytes.</returns>
    /// <exception cref="TrustException">The value holds a non-integer number, an integer outside the
    /// 64-bit signed range, a string that is not valid Unicode, or nests deeper than <see cref="MaxDepth"/>.</exception>
    public static byte[] Serialize(JsonNode? node, CanonicalStrings strings)
    {
        using var output = new MemoryStream();
        Write(output, node, 0, strings);
        return output.ToArray();
    }

    /// <summary>Parses UTF-8 JSON strictly and writes it in canonical form.</summary>
    /// <param name="utf8Json">The JSON text.</param>
    /// <returns>The canonical UTF-8 bytes.</returns>
    /// <exception cref="TrustException">The text is not JSON, has duplicate keys, or holds a value canonical JSON refuses.</exception>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json) => Serialize(Parse(utf8Json));

    /// <summary>
    /// Parses UTF-8 JSON strictly: no comments, no trailing commas, no duplicate keys, integers only.
    /// </summary>
    /// <param name="utf8Json">The JSON text.</param>
    /// <returns>The parsed value; <see langword="null"/> for the JSON literal <c>null</c>.</returns>
    /// <exception cref="TrustException">The text is not JSON canonical JSON can carry.</exception>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = MaxDepth,
        });
        try
        {
            if (!reader.Read())
            {
                throw new TrustException("Malformed JSON: the document is empty.");
            }

            var node = ReadValue(ref reader);
            if (reader.Read())
            {
                throw new TrustException("Malformed JSON: there is content after the top-level value.");
            }

            return node;
        }
        catch (JsonException e)
        {
            throw new TrustException($"Malformed JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // The reader reports invalid UTF-8 or lone surrogates in strings this way.
            throw new TrustException($"Malformed JSON: {e.Message}");
        }
    }

    private static JsonNode? ReadValue(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var obj = new JsonObject();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var key = reader.GetString()!;
                    if (obj.ContainsKey(key))
                    {
                        throw new TrustException($"Malformed JSON: the key \"{key}\" appears twice in one object.");
                    }

                    reader.Read();
                    obj.Add(key, ReadValue(ref reader));
                }

                return obj;
            case JsonTokenType.StartArray:
                var array = new JsonArray();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    array.Add(ReadValue(ref reader));
                }

                return array;
            case JsonTokenType.String:
                return JsonValue.Create(reader.GetString()!);
            case JsonTokenType.Number:
                return JsonValue.Create(ParseInteger(reader.ValueSpan));
            case JsonTokenType.True:
                return JsonValue.Create(true);
            case JsonTokenType.False:
                return JsonValue.Create(false);
            case JsonTokenType.Null:
                return null;
            default:
                throw new TrustException($"Malformed JSON: unexpected token {reader.TokenType}.");
        }
    }

    private static long ParseInteger(ReadOnlySpan<byte> text)
    {
        if (text.IndexOfAny(".eE"u8) >= 0)
        {
            throw new TrustException("canonical JSON carries integers only");
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            throw new TrustException("canonical JSON carries integers only, within the 64-bit signed range");
        }

        return value;
    }

    private static void Write(Stream output, JsonNode? node, int depth, CanonicalStrings strings)
    {
        if (depth > MaxDepth)
        {
            throw new TrustException($"canonical JSON nests at most {MaxDepth} levels deep");
        }

        switch (node)
        {
            case null:
                output.Write("null"u8);
                break;
            case JsonObject obj:
                var keys = new List<string>(obj.Count);
                foreach (var pair in obj)
                {
                    keys.Add(pair.Key);
                }

                keys.Sort(CodePointComparer.Instance);
                output.WriteByte((byte)'{');
                for (var i = 0; i < keys.Count; i++)
                {
                    if (i > 0)
                    {
                        output.WriteByte((byte)',');
                    }

                    WriteString(output, keys[i], strings);
                    output.WriteByte((byte)':');
                    Write(output, obj[keys[i]], depth + 1, strings);
                }

                output.WriteByte((byte)'}');
                break;
            case JsonArray array:
                output.WriteByte((byte)'[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        output.WriteByte((byte)',');
                    }

                    Write(output, array[i], depth + 1, strings);
                }

                output.WriteByte((byte)']');
                break;
            default:
                WriteScalar(output, node, strings);
                break;
        }
    }

    private static void WriteScalar(Stream output, JsonNode value, CanonicalStrings strings)
    {
        // Strings are taken as they are: the stock writer would quietly replace a lone surrogate.
        if (value is JsonValue v && v.TryGetValue<string>(out var direct))
        {
            WriteString(output, direct, strings);
            return;
        }

        // A JsonValue may wrap any .NET type (int, double, Guid, JsonElement...). Writing it with
        // the stock writer and reading the token back gives one path for all of them.
        var text = Encoding.UTF8.GetBytes(value.ToJsonString());
        var reader = new Utf8JsonReader(text);
        reader.Read();
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                string s;
                try
                {
                    s = reader.GetString()!;
                }
                catch (InvalidOperationException e)
                {
                    throw new TrustException($"canonical JSON carries valid Unicode strings only: {e.Message}");
                }

                WriteString(output, s, strings);
                break;
            case JsonTokenType.Number:
                output.Write(Encoding.ASCII.GetBytes(ParseInteger(reader.ValueSpan).ToString(CultureInfo.InvariantCulture)));
                break;
            case JsonTokenType.True:
                output.Write("true"u8);
                break;
            case JsonTokenType.False:
                output.Write("false"u8);
                break;
            case JsonTokenType.Null:
                output.Write("null"u8);
                break;
            default:
                throw new TrustException($"canonical JSON cannot carry a {reader.TokenType} value");
        }
    }

    private static void WriteString(Stream output, string value, CanonicalStrings strings)
    {
        byte[] utf8;
        try
        {
            utf8 = StrictUtf8.GetBytes(value);
        }
        catch (EncoderFallbackException)
        {
            throw new TrustException("canonical JSON carries valid Unicode strings only (this one has a lone surrogate)");
        }

        output.WriteByte((byte)'"');
        foreach (var b in utf8)
        {
            if (strings == CanonicalStrings.QuoteAndBackslashOnly && b is not ((byte)'"' or (byte)'\\'))
            {
                output.WriteByte(b);
                continue;
            }

            switch (b)
            {
                case (byte)'"':
                    output.Write("\\\""u8);
                    break;
                case (byte)'\\':
                    output.Write("\\\\"u8);
                    break;
                case (byte)'\b':
                    output.Write("\\b"u8);
                    break;
                case (byte)'\f':
                    output.Write("\\f"u8);
                    break;
                case (byte)'\n':
                    output.Write("\\n"u8);
                    break;
                case (byte)'\r':
                    output.Write("\\r"u8);
                    break;
                case (byte)'\t':
                    output.Write("\\t"u8);
                    break;
                case < 0x20:
                    output.Write("\\u00"u8);
                    output.WriteByte(HexDigit(b >> 4));
                    output.WriteByte(HexDigit(b & 0xF));
                    break;
                default:
                    // Bytes of multi-byte UTF-8 sequences are all >= 0x80, so they pass through whole.
                    output.WriteByte(b);
                    break;
            }
        }

        output.WriteByte((byte)'"');
    }

    private static byte HexDigit(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    /// <summary>
    /// Orders strings by Unicode code point. Ordinal UTF-16 order differs where a surrogate pair
    /// (code point above U+FFFF) meets a BMP character in U+E000..U+FFFF: the surrogate's code unit
    /// is smaller, its code point larger.
    /// </summary>
    internal sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            if (x is null)
            {
                return -1;
            }

            if (y is null)
            {
                return 1;
            }

            var length = Math.Min(x.Length, y.Length);
            for (var i = 0; i < length; i++)
            {
                if (x[i] != y[i])
                {
                    return Weight(x[i]) - Weight(y[i]);
                }
            }

            return x.Length - y.Length;
        }

        // Moves surrogates (D800..DFFF) above the rest of the BMP, which gives code point order.
        private static int Weight(char c) => c switch
        {
            >= '\uE000' => c - 0x800,
            >= '\uD800' => c + 0x2000,
            _ => c,
        };
    }
}
