using System.Text;
using Gatehouse.Content.Channels;

namespace Gatehouse.Content.Tests.Channels;

public sealed class BypassChannelTests
{
    private const string Header = "\"channel\":\"bypass\",\"schemaVersion\":1,\"version\":\"7\",\"fields\":[\"kind\",\"value\",\"ports\",\"note\"]";

    [Fact]
    public void Domains_and_networks_load_with_their_ports()
    {
        var loaded = ContentChannels.Load(Utf8("{" + Header + ""","records":[["domain","*.Teams.Microsoft.com","3478,3479","media"],["cidr","52.112.0.0/14","","media"]]}"""));

        var list = (BypassList)loaded.Value;
        Assert.Equal("7", loaded.Version);
        Assert.Equal("*.teams.microsoft.com", list.Entries[0].Domain);
        Assert.Equal([3478, 3479], list.Entries[0].Ports);
        Assert.Equal("52.112.0.0/14", list.Entries[1].Network!.Value.ToString());
    }

    [Theory]
    [InlineData("""{"channel":"bypass","schemaVersion":2,"version":"7","fields":["kind","value","ports","note"],"records":[]}""", "schema version 2; this build reads version 1")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","ports","note","extra"],"records":[]}""", "declares 5 fields; this build reads 4")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","note","ports"],"records":[]}""", "field 3 is \"note\"")]
    [InlineData("""{"channel":"nope","schemaVersion":1,"version":"7","fields":[],"records":[]}""", "no content channel \"nope\"")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","ports","note"],"records":[["domain","a.example","443"]]}""", "records[0] has 3 values")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","ports","note"],"records":[["domain","a..example","",""]]}""", "is not a domain")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","ports","note"],"records":[["cidr","10.0.0.0/33","",""]]}""", "is not a CIDR")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","ports","note"],"records":[["domain","a.example","70000",""]]}""", "is not a port")]
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","ports","note"],"records":[],"extra":1}""", "unknown header field")]
    [InlineData("""{"channel":"bypass",""", "not valid JSON")]
    // A reviewer reads the first records; a loader that takes the last would load the second.
    [InlineData("""{"channel":"bypass","schemaVersion":1,"version":"7","fields":["kind","value","ports","note"],"records":[["domain","a.example","",""]],"records":[["cidr","0.0.0.0/0","",""]]}""", "gives \"records\" twice")]
    // Saved by an editor that writes a byte order mark: System.Text.Json said "'0xEF' is an invalid start of a value".
    [InlineData("\uFEFF{\"channel\":\"bypass\",\"schemaVersion\":1,\"version\":\"7\",\"fields\":[\"kind\",\"value\",\"ports\",\"note\"],\"records\":[]}", "starts with a UTF-8 byte order mark")]
    public void Content_this_build_does_not_read_is_refused_with_the_reason(string json, string reason)
    {
        var error = Assert.Throws<ContentException>(() => ContentChannels.Load(Utf8(json)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
