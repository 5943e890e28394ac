using Gatehouse.Edge.Hosting;

namespace Gatehouse.Edge.Tests.Hosting;

public sealed class HostPortTests
{
    [Theory]
    [InlineData("siem.example.com:514", "siem.example.com", 514)]
    [InlineData("[::1]:6514", "::1", 6514)]
    [InlineData("10.0.0.5:65535", "10.0.0.5", 65535)]
    public void Hosts_and_ports_parse(string text, string host, int port)
    {
        Assert.True(HostPort.TryParse(text, out var parsedHost, out var parsedPort));
        Assert.Equal(host, parsedHost);
        Assert.Equal(port, parsedPort);
    }

    [Theory]
    [InlineData("siem.example.com")]
    [InlineData("siem.example.com:0")]
    [InlineData("siem.example.com:70000")]
    [InlineData(":514")]
    [InlineData("::1:514")]
    [InlineData("bad host:514")]
    [InlineData("host:-1")]
    public void Others_do_not_parse(string text) =>
        Assert.False(HostPort.TryParse(text, out _, out _));
}
