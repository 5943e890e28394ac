using System.Text;
using System.Text.Json.Nodes;
using Canonical = Gatehouse.Trust.CanonicalJson.CanonicalJson;

namespace Gatehouse.Trust.Tests.CanonicalJson;

public class CanonicalJsonTests
{
    private static string Canon(string json) => Encoding.UTF8.GetString(Canonical.Canonicalize(Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("{ \"b\" : 1 , \"a\" : [ 1 , 2 ] }", "{\"a\":[1,2],\"b\":1}")]
    [InlineData("{}", "{}")]
    [InlineData("[]", "[]")]
    [InlineData(" [ {} , [ ] , null , true , false ] ", "[{},[],null,true,false]")]
    [InlineData("{\"z\":{\"y\":{\"b\":2,\"a\":1}},\"a\":0}", "{\"a\":0,\"z\":{\"y\":{\"a\":1,\"b\":2}}}")]
    [InlineData("9223372036854775807", "9223372036854775807")]
    [InlineData("-9223372036854775808", "-9223372036854775808")]
    [InlineData("-17", "-17")]
    [InlineData("-0", "0")]
    [InlineData("0", "0")]
    public void Structure_whitespace_and_integers_are_written_canonically(string input, string expected) =>
        Assert.Equal(expected, Canon(input));

    [Theory]
    // Only quote, backslash and control characters are escaped; controls without a short form use lower-case hex.
    [InlineData("\"a\\\"b\\\\c\"", "\"a\\\"b\\\\c\"")]
    [InlineData("\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\"")]
    [InlineData("\"\\u0000\\u001F\\u000b\"", "\"\\u0000\\u001f\\u000b\"")]
    [InlineData("\"\\/\"", "\"/\"")]
    [InlineData("\"\\u00e9\\u20AC\\uD83D\\uDE00\"", "\"é€😀\"")]
    [InlineData("\"\\u007f<>&'\"", "\"\u007f<>&'\"")]
    public void Strings_are_escaped_minimally(string input, string expected) =>
        Assert.Equal(expected, Canon(input));

    [Fact]
    public void Keys_are_sorted_by_code_point_not_by_utf16_code_unit()
    {
        // U+1F600 (surrogate pair D83D DE00) sorts after U+E000 and U+FFFD by code point,
        // though its first UTF-16 code unit is smaller than theirs.
        var json = "{\"\\uD83D\\uDE00\":3,\"\\uFFFD\":2,\"\\uE000\":1,\"z\":0,\"\\u00e9\":4,\"Z\":5,\"\":6}";
        Assert.Equal("{\"\":6,\"Z\":5,\"z\":0,\"é\":4,\"\uE000\":1,\"\uFFFD\":2,\"😀\":3}", Canon(json));
    }

    [Fact]
    public void Keys_are_sorted_like_rfc_8785_example()
    {
        // The sorting example of RFC 8785 section 3.2.3 (its numbers replaced by integers).
        var json = "{\"\\u20ac\":1,\"\\r\":2,\"\\ufb33\":3,\"1\":4,\"\\ud83d\\ude00\":5,\"\\u0080\":6,\"\\u00f6\":7}";
        var expected = "{\"\\r\":2,\"1\":4,\"\u0080\":6,\"ö\":7,\"€\":1,\"\ufb33\":3,\"😀\":5}";
        Assert.Equal(expected, Canon(json));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("{\"a\":[2E1]}")]
    public void Non_integer_numbers_are_refused(string input)
    {
        var e = Assert.Throws<TrustException>(() => Canon(input));
        Assert.Contains("canonical JSON carries integers only", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    public void Integers_outside_the_long_range_are_refused(string input) =>
        Assert.Throws<TrustException>(() => Canon(input));

    [Theory]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("{\"x\":{\"a\":1,\"\\u0061\":1}}")]
    public void Duplicate_keys_are_refused(string input)
    {
        var e = Assert.Throws<TrustException>(() => Canon(input));
        Assert.Contains("twice", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"a\":1,}")]
    [InlineData("[1] [2]")]
    [InlineData("{\"a\":1 /* c */}")]
    [InlineData("'a'")]
    [InlineData("\"\\uD800\"")]
    public void Malformed_json_is_refused_with_a_trust_exception(string input)
    {
        var e = Assert.Throws<TrustException>(() => Canon(input));
        Assert.StartsWith("Malformed JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_is_refused() =>
        Assert.Throws<TrustException>(() => Canonical.Canonicalize([(byte)'"', 0xC3, 0x28, (byte)'"']));

    [Fact]
    public void Serialize_writes_nodes_of_any_backing_type_canonically()
    {
        var node = new JsonObject
        {
            ["n"] = 42,
            ["big"] = long.MinValue,
            ["s"] = "x\u0001",
            ["c"] = 'q',
            ["nested"] = new JsonArray(1, "two", null, new JsonObject()),
            ["parsed"] = JsonNode.Parse("{\"b\":1,\"a\":2}"),
        };
        var expected = "{\"big\":-9223372036854775808,\"c\":\"q\",\"n\":42,\"nested\":[1,\"two\",null,{}],\"parsed\":{\"a\":2,\"b\":1},\"s\":\"x\\u0001\"}";
        Assert.Equal(expected, Encoding.UTF8.GetString(Canonical.Serialize(node)));
    }

    [Fact]
    public void Serialize_refuses_a_fractional_double() =>
        Assert.Throws<TrustException>(() => Canonical.Serialize(new JsonObject { ["x"] = 0.5 }));

    [Fact]
    public void Serialize_refuses_a_lone_surrogate() =>
        Assert.Throws<TrustException>(() => Canonical.Serialize(JsonValue.Create("\uD800")));

    [Fact]
    public void Canonical_output_is_a_fixed_point()
    {
        var once = Canonical.Canonicalize("{\"b\":[{\"d\":1,\"c\":\"\\n\"}],\"a\":-5}"u8);
        Assert.Equal(once, Canonical.Canonicalize(once));
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused()
    {
        var deep = new string('[', Canonical.MaxDepth + 1) + new string(']', Canonical.MaxDepth + 1);
        Assert.Throws<TrustException>(() => Canon(deep));
    }
}
