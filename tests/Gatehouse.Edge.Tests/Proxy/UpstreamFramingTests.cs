using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>
/// Destinations whose responses could be read two ways: the proxy passes on only what it framed, so that a response
/// never answers another request (RFC 9112 section 6.3).
/// </summary>
public sealed class UpstreamFramingTests : IAsyncLifetime
{
    private readonly TestTenant _tenant = new();
    private (string Id, string Email, string Password) _alice;
    private ProxyFixture _proxy = null!;

    public async Task InitializeAsync()
    {
        _alice = _tenant.AddUser("alice@example.test", "staff");
        _proxy = await ProxyFixture.StartAsync(_tenant);
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    [Fact]
    public async Task Bytes_a_destination_sends_after_a_response_without_a_body_never_answer_the_next_request()
    {
        // The first connection answers 204 and, in the same write, a response nobody asked for; every later one "fresh".
        var connections = 0;
        using var origin = new LoopbackTcpServer(async (socket, ct) =>
        {
            var first = Interlocked.Increment(ref connections) == 1;
            await using var stream = new NetworkStream(socket);
            while (true)
            {
                await ProxyFixture.ReadRequestHeadAsync(stream, ct);
                var answer = first
                    ? "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), ct);
            }
        });
        using var client = new TcpClient();
        await client.ConnectAsync(_proxy.Address);
        var stream = client.GetStream();

        await stream.WriteAsync(Get(origin.Port, "/first"));
        var noContent = await ProxyFixture.ReadAsync(stream, "\r\n\r\n", TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        await stream.WriteAsync(Get(origin.Port, "/second"));
        var next = await ProxyFixture.ReadAsync(stream, "fresh", TimeSpan.FromSeconds(10));

        Assert.StartsWith("HTTP/1.1 204 ", noContent, StringComparison.Ordinal);
        Assert.DoesNotContain("SMUGGLED", noContent + next, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 ", next, StringComparison.Ordinal);
        Assert.EndsWith("fresh", next, StringComparison.Ordinal);
        Assert.Equal(2, connections);
    }

    [Fact]
    public async Task A_response_whose_Connection_header_names_its_Content_Length_gets_502()
    {
        // Dropping what Connection names would send the body on with no framing, on a kept-alive client connection.
        using var origin = AnsweringOnce("HTTP/1.1 200 OK\r\nConnection: Content-Length\r\nContent-Length: 5\r\n\r\nhello");

        var answer = await _proxy.RawAsync(Get(origin.Port, "/"), until: "</html>");

        Assert.StartsWith("HTTP/1.1 502 ", answer, StringComparison.Ordinal);
        Assert.Contains("Connection names a header that frames the message", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_http_1_0_client_gets_the_chunks_data_to_the_connections_end_and_no_interim_response()
    {
        // It got "Transfer-Encoding: chunked" and the chunk lines as its body, and a 103 it cannot read (RFC 9112 6.1, RFC 9110 15.2).
        using var origin = new LoopbackTcpServer(async (socket, ct) =>
        {
            await using var stream = new NetworkStream(socket);
            await ProxyFixture.ReadRequestHeadAsync(stream, ct);
            await stream.WriteAsync("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst,\r\n6\r\nsecond\r\n0\r\n\r\n"u8.ToArray(), ct);
            await Task.Delay(Timeout.Infinite, ct);
        });

        var answer = await _proxy.RawAsync(Encoding.ASCII.GetBytes(
            $"GET http://127.0.0.1:{origin.Port}/ HTTP/1.0\r\nProxy-Authorization: {ProxyFixture.Basic(_alice.Email, _alice.Password)}\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("103", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("Transfer-Encoding", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Connection: close\r\n", answer, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nfirst,second", answer, StringComparison.Ordinal);
        var record = await _proxy.Recorder.WaitForAsync(r => r.Port == origin.Port);
        Assert.Equal(12, record.BytesDown);
    }

    [Fact]
    public async Task A_client_that_sends_less_body_than_it_announced_gets_400_not_502()
    {
        // The destination did nothing wrong: 502 blamed it, in the answer and in the record.
        using var origin = new LoopbackTcpServer(async (socket, ct) =>
        {
            await using var stream = new NetworkStream(socket);
            await ProxyFixture.ReadRequestHeadAsync(stream, ct);
            await Task.Delay(Timeout.Infinite, ct);
        });
        using var client = new TcpClient();
        await client.ConnectAsync(_proxy.Address);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nProxy-Authorization: {ProxyFixture.Basic(_alice.Email, _alice.Password)}\r\nContent-Length: 50\r\n\r\nhello"));
        client.Client.Shutdown(SocketShutdown.Send);
        var answer = await ProxyFixture.ReadAsync(stream, until: null, TimeSpan.FromSeconds(10));

        // The client's end of sending may also end the request first (a plain-HTTP request ends with its client), even
        // before the proxy read it: then nothing is answered, or recorded. Either way the destination is not blamed.
        if (answer.Length > 0)
        {
            Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
            var record = await _proxy.Recorder.WaitForAsync(r => r.Port == origin.Port);
            Assert.Equal((400, "the request body was cut short: the client sent less than it announced"), (record.Status, record.Reason));
        }

        await Task.Delay(200);
        Assert.DoesNotContain(_proxy.Recorder.Records, r => r.Port == origin.Port && r.Status == 502);
    }

    [Theory]
    [InlineData("Content-Length: 5, 5")]
    [InlineData("Content-Length: 5,5 ,\t5")]
    [InlineData("Content-Length: 5\r\nContent-Length: 5")]
    [InlineData("Content-Length: 5\r\nX-Between: 1\r\ncontent-length: 5, 5")]
    public async Task A_response_whose_Content_Length_repeats_one_value_is_passed_on_with_that_value_once(string lengths)
    {
        // RFC 9112 6.3 lets a recipient take one value repeated as that value (the Fetch standard and Squid do); it was a 502.
        using var origin = AnsweringOnce($"HTTP/1.1 200 OK\r\n{lengths}\r\n\r\nhelloEXTRA");

        var answer = await _proxy.RawAsync(Get(origin.Port, "/"), until: "hello");

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nhello", answer, StringComparison.Ordinal);
        Assert.Equal(["Content-Length: 5"], ContentLengthLines(answer));
    }

    [Theory]
    [InlineData("Content-Length: 5, 6")]
    [InlineData("Content-Length: 5\r\nContent-Length: 5, 6")]
    [InlineData("Content-Length: 5,")]
    [InlineData("Content-Length: ,5")]
    [InlineData("Content-Length: 5,,5")]
    [InlineData("Content-Length: 5 5")]
    public async Task A_response_whose_Content_Length_lists_different_or_empty_values_gets_502(string lengths)
    {
        using var origin = AnsweringOnce($"HTTP/1.1 200 OK\r\n{lengths}\r\n\r\nhello!");

        var answer = await _proxy.RawAsync(Get(origin.Port, "/"), until: "</html>");

        Assert.StartsWith("HTTP/1.1 502 ", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("hello", answer, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Content-Length: 5, 5")]
    [InlineData("Content-Length: 5\r\nContent-Length: 5")]
    public async Task A_request_whose_Content_Length_repeats_one_value_reaches_the_destination_with_that_value_once(string lengths)
    {
        var heads = new System.Collections.Concurrent.ConcurrentQueue<(string Head, string Body)>();
        using var origin = new LoopbackTcpServer(async (socket, ct) =>
        {
            await using var stream = new NetworkStream(socket);
            var head = await ProxyFixture.ReadRequestHeadAsync(stream, ct);
            var body = new byte[5];
            await stream.ReadExactlyAsync(body, ct);
            heads.Enqueue((head, Encoding.ASCII.GetString(body)));
            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), ct);
            await Task.Delay(Timeout.Infinite, ct);
        });

        var answer = await _proxy.RawAsync(
            Encoding.ASCII.GetBytes($"POST http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nProxy-Authorization: {ProxyFixture.Basic(_alice.Email, _alice.Password)}\r\n{lengths}\r\n\r\nhello"),
            until: "\r\n\r\nok");

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        var (sent, sentBody) = Assert.Single(heads);
        Assert.Equal(["Content-Length: 5"], ContentLengthLines(sent));
        Assert.Equal("hello", sentBody);
    }

    /// <summary>A destination that answers a connection's first request with <paramref name="response"/> and keeps the connection open.</summary>
    private static LoopbackTcpServer AnsweringOnce(string response) => new(async (socket, ct) =>
    {
        await using var stream = new NetworkStream(socket);
        await ProxyFixture.ReadRequestHeadAsync(stream, ct);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response), ct);
        await Task.Delay(Timeout.Infinite, ct);
    });

    /// <summary>The head's Content-Length lines, whatever the case of their names.</summary>
    private static string[] ContentLengthLines(string message) =>
        [.. message[..message.IndexOf("\r\n\r\n", StringComparison.Ordinal)].Split("\r\n").Where(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))];

    private byte[] Get(int port, string path) => Encoding.ASCII.GetBytes(
        $"GET http://127.0.0.1:{port}{path} HTTP/1.1\r\nProxy-Authorization: {ProxyFixture.Basic(_alice.Email, _alice.Password)}\r\n\r\n");
}
