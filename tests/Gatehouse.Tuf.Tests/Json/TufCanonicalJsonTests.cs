using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Tuf.Json;

namespace Gatehouse.Tuf.Tests.Json;

public sealed class TufCanonicalJsonTests
{
    [Fact]
    public void Keys_are_sorted_by_code_point_and_there_is_no_whitespace()
    {
        var node = JsonNode.Parse("""{ "b": 1, "a": [true, false, null], "B": {"z": "", "\uE000": 0, "\uD83D\uDE00": 1} }""");

        Assert.Equal("{\"B\":{\"z\":\"\",\"\uE000\":0,\"\uD83D\uDE00\":1},\"a\":[true,false,null],\"b\":1}", Encoding.UTF8.GetString(TufCanonicalJson.Encode(node)));
    }

    [Fact]
    public void Only_quote_and_backslash_are_escaped_as_securesystemslib_does()
    {
        var node = new JsonObject { ["s"] = "q\" b\\ t\t n\n é" };

        Assert.Equal("{\"s\":\"q\\\" b\\\\ t\t n\n é\"}", Encoding.UTF8.GetString(TufCanonicalJson.Encode(node)));
    }

    [Theory]
    [InlineData("""{"a": 1.5}""")]
    [InlineData("""{"a": 1e3}""")]
    [InlineData("""{"a": 1, "a": 2}""")]
    [InlineData("""{"a": 1,}""")]
    public void Input_canonical_json_cannot_carry_is_refused_as_malformed(string json)
    {
        var error = Assert.Throws<TufException>(() => TufCanonicalJson.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(TufFailure.Malformed, error.Failure);
    }

    [Fact]
    public void A_double_built_in_code_is_refused()
    {
        Assert.Throws<TufException>(() => TufCanonicalJson.Encode(new JsonObject { ["a"] = 0.5 }));
    }
}
