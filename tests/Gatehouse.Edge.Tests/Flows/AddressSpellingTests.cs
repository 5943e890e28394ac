using System.Net;
using Gatehouse.Flows;
using Gatehouse.Wire.Addresses;

namespace Gatehouse.Edge.Tests.Flows;

/// <summary>
/// Address spellings that IPAddress.Parse reads as inet_aton does (octal, hex, short forms), in the edge's own options
/// and in flow destinations: none may stand for another network than the one it looks like.
/// </summary>
public sealed class AddressSpellingTests
{
    [Theory]
    [InlineData("010.0.0.0/8")] // octal: 8.0.0.0/8, and the management network would stay reachable
    [InlineData("0x0a.0.0.0/8")]
    [InlineData("10.1/16")]
    [InlineData("10.0.0.0/08")]
    [InlineData("fe80::1%eth0/64")]
    [InlineData("10.0.0.0/33")]
    public void An_edge_range_option_in_another_spelling_is_refused(string text)
    {
        var refused = Assert.Throws<FormatException>(() => EgressGuard.ParseRange(text, "--management-network"));

        Assert.StartsWith($"--management-network: \"{text}\" is not an address range", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData(" 10.1.2.3/8 ", "10.0.0.0/8")]
    [InlineData("192.168.1.7", "192.168.1.7/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("2001:db8::1/32", "2001:db8::/32")]
    [InlineData("::1", "::1/128")]
    public void An_edge_range_option_is_read_as_written(string text, string network)
    {
        Assert.Equal(IPNetwork.Parse(network), EgressGuard.ParseRange(text, "--allow-egress"));
    }

    [Theory]
    [InlineData("010.0.0.1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("127.1")]
    [InlineData("1.2.3.04")]
    [InlineData("256.0.0.1")]
    [InlineData("fe80::1%eth0")]
    public void A_destination_in_another_spelling_is_no_address_literal(string host)
    {
        Assert.False(AddressLiteral.TryParse(host, out _));
    }

    [Theory]
    [InlineData("010.0.0.1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("127.1")]
    [InlineData("2130706433")]
    [InlineData("127.000.000.001")]
    [InlineData("[fe80::1%eth0]")]
    public void A_flow_destination_in_another_spelling_is_refused_not_resolved_as_a_name(string host)
    {
        // Taken for names, the resolver turned them into 127.0.0.1, past rules and app segments for that network.
        Assert.False(Gatehouse.Wire.Http.Target.TryParseAuthority($"{host}:80", defaultPort: 0, out _));
        Assert.False(Gatehouse.Wire.Http.Target.TryParseAbsolute($"http://{host}/", out _, out var error));
        Assert.Contains("write an IPv4 address as four decimal numbers", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com:08080")]
    [InlineData("10.0.0.1:080")]
    [InlineData("[2001:db8::1]:0443")]
    [InlineData("example.com:00")]
    public void A_port_with_leading_zeros_is_refused_not_read_as_another_spelling_of_the_port(string authority)
    {
        // One spelling per destination: the record's URL and the Host sent on said :08080 of a flow decided and dialled as 8080.
        Assert.False(Gatehouse.Wire.Http.Target.TryParseAuthority(authority, defaultPort: 0, out _));
        Assert.False(Gatehouse.Wire.Http.Target.TryParseAbsolute($"http://{authority}/", out _, out var error));
        Assert.Equal($"\"{authority}\" is not a valid HOST[:PORT]: write the port as a decimal number without leading zeros.", error);
        Assert.Equal(error, Gatehouse.Wire.Http.Target.AuthorityError(authority));
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("[2001:db8::1]")]
    [InlineData("::ffff:10.0.0.1")]
    public void A_destination_literal_is_read_as_written(string host)
    {
        Assert.True(AddressLiteral.TryParse(host, out var address));
        Assert.Equal(IPAddress.Parse(host.Trim('[', ']')), address);
    }
}
