using System.Text;
using Gatehouse.Content.Channels;
using Gatehouse.Content.Packages;

namespace Gatehouse.Content.Tests.Packages;

/// <summary>A refused content file is refused in words: where, by line and column or by path, and what was found.</summary>
public sealed class ContentPackageTests
{
    private const string Header = "\"channel\":\"bypass\",\"schemaVersion\":1,\"version\":\"7\",\"fields\":[\"kind\",\"value\",\"ports\",\"note\"]";

    [Theory]
    // System.Text.Json said "(line ): Duplicate property 'records' encountered during deserialization."
    [InlineData("{" + Header + ",\n\"records\":[[\"domain\",\"a.example\",\"\",\"\"]],\n\"records\":[]}",
        "content gives \"records\" twice in one object, at line 2, column 1 and at line 3, column 1; give each property once", "records")]
    // ... and "(line 1): 'nope' is an invalid JSON literal. Expected the literal 'null'. LineNumber: 0 | BytePositionInLine: 1."
    [InlineData("nope", "content is not valid JSON at line 1, column 2: 'nope' is an invalid JSON literal. Expected the literal 'null'.", null)]
    [InlineData("{" + Header + ",\n  \"records\":[\n    [\"domain\",\"a.example\",\"\",\"\"],,\n  ]}", "content is not valid JSON at line 3, column 34: ',' is an invalid start of a value.", null)]
    [InlineData("{\"channel\":\"bypass\",\n \"note\":\"Zürich\",,}", "content is not valid JSON at line 2, column 18: ',' is an invalid start of a property name. Expected a '\"'.", null)] // columns count characters, not bytes
    [InlineData(" \n ", "content is empty; a content file is one JSON object with channel, schemaVersion, version, fields and records", null)]
    [InlineData("[]", "content must be a JSON object with channel, schemaVersion, version, fields and records; it is an array", null)]
    [InlineData("""{"channel":"bypass","schemaVersion":"1","version":"7","fields":[],"records":[]}""", "schemaVersion must be a positive integer; it is the string \"1\"", "schemaVersion")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"fields":[],"records":[]}""", "version is missing; it must be a non-empty string", "version")]
    [InlineData("{" + Header + ""","records":[["domain","a.example",443,""]]}""", "records[0][2] must be a string; it is the number 443", "records[0][2]")]
    [InlineData("{" + Header + ""","records":[{"kind":"domain"}]}""", "records[0] must be an array of 4 strings; it is an object", "records[0]")]
    [InlineData("{" + Header + ""","records":[],"extra":1}""", "content has an unknown header field \"extra\"; the header is channel, schemaVersion, version, fields and records", "extra")]
    public void A_file_that_is_not_a_content_package_is_refused_saying_where_and_what(string json, string message, string? field)
    {
        var error = Assert.Throws<ContentException>(() => ContentPackage.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(message, error.Message);
        Assert.Equal(field, error.Field);
    }

    [Theory]
    [InlineData("{" + Header + ""","records":[["domain","a..example","",""]]}""", "records[0][1]")]
    [InlineData("{" + Header + ""","records":[["domain","a.example","70000",""]]}""", "records[0][2]")]
    [InlineData("{" + Header + ""","records":[["host","a.example","",""]]}""", "records[0][0]")]
    [InlineData("""{"channel":"bypass","schemaVersion":2,"version":"7","fields":[],"records":[]}""", "schemaVersion")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","note","ports"],"records":[]}""", "fields[2]")]
    public void A_record_the_loader_refuses_names_its_place(string json, string field)
    {
        var error = Assert.Throws<ContentException>(() => ContentChannels.Load(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(field, error.Field);
    }
}
