using Gatehouse.Wire.Tunnel;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>How a flow's path names its destination (the wire contract both ends share).</summary>
public sealed class TunnelProtocolTests
{
    [Theory]
    [InlineData("/.well-known/masque/tcp/127.0.0.1/80/", "127.0.0.1", 80)]
    [InlineData("/.well-known/masque/tcp/%3A%3A1/443/", "::1", 443)]
    [InlineData("/.well-known/masque/tcp/%5B%3A%3A1%5D/443/", "::1", 443)]
    public void Address_literals_are_addresses(string path, string host, int port)
    {
        Assert.True(TunnelProtocol.TryParsePath(path, out var parsedHost, out var parsedPort, out var isAddress));

        Assert.Equal(host, parsedHost);
        Assert.Equal(port, parsedPort);
        Assert.True(isAddress);
    }

    [Theory]
    [InlineData("2130706433")]
    [InlineData("0x7f.1")]
    [InlineData("127.1")]
    [InlineData("0177.0.0.1")]
    public void Odd_spellings_of_an_address_are_refused(string spelling)
    {
        // Taken as names, the resolver (getaddrinfo reads them as inet_aton does) turned them into 127.0.0.1,
        // past the rules and app segments for that network.
        Assert.False(TunnelProtocol.TryParsePath($"/.well-known/masque/tcp/{spelling}/80/", out _, out _, out _));
    }

    [Fact]
    public void A_name_comes_back_in_lower_case_and_round_trips_through_PathFor()
    {
        var path = TunnelProtocol.PathFor("Intranet.Example", 8443);

        Assert.True(TunnelProtocol.TryParsePath(path, out var host, out var port, out var isAddress));
        Assert.Equal(("intranet.example", 8443, false), (host, port, isAddress));
    }

    [Fact]
    public void The_longest_flow_path_is_MaxPathLength_long_and_one_more_character_is_refused()
    {
        // The longest host name, each character percent-encoded, and the largest port: the edge answers 414 past it.
        var name = string.Join('.', new string('a', 63), new string('b', 63), new string('c', 63), new string('d', 61));
        var longest = $"{TunnelProtocol.PathPrefix}{string.Concat(name.Select(c => $"%{(int)c:X2}"))}/65535/";

        Assert.Equal(TunnelProtocol.MaxTokenLength, name.Length);
        Assert.Equal(TunnelProtocol.MaxPathLength, longest.Length);
        Assert.True(TunnelProtocol.TryParsePath(longest, out var parsed, out var port, out _));
        Assert.Equal((name, 65535), (parsed, port));
        Assert.False(TunnelProtocol.TryParsePath(longest.Insert(TunnelProtocol.PathPrefix.Length, "a"), out _, out _, out _));
    }
}
