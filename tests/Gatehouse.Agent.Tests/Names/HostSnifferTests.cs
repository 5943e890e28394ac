using System.Buffers;
using System.Text;
using Gatehouse.Agent.Transparent;

namespace Gatehouse.Agent.Tests.Names;

public sealed class HostSnifferTests
{
    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: www.example.test:8080\r\nAccept: */*\r\n\r\n", "Http", "www.example.test")]
    [InlineData("POST /x HTTP/1.1\r\nhost: API.example.test\r\n\r\n", "Http", "api.example.test")]
    [InlineData("GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n", "Unknown", null)]
    [InlineData("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", "Unknown", null)]
    [InlineData("GET / HTTP/1.1\r\nAcc", "NeedMore", null)]
    [InlineData("GE", "NeedMore", null)]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n", "Unknown", null)]
    public void Plain_http_gives_its_host_header(string first, string status, string? host)
    {
        var result = HostSniffer.TryRead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(first)), out var name);

        Assert.Equal((status, host), (result.ToString(), name));
    }
}
