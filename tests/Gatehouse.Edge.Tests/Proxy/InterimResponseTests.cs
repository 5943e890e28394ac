using System.Net.Sockets;
using System.Text;
using Gatehouse.Edge.Flows;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>
/// Interim (1xx) responses. Requests that ask for <c>100-continue</c> (curl does for bodies over 1 MB): the client
/// may wait for the destination's 100 or send its body without it (RFC 9110 §10.1.1), and the destination may answer
/// 100, read the body without a 100, or refuse at once. A 101 nobody asked for is not passed on.
/// </summary>
public sealed class InterimResponseTests : IAsyncLifetime
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
    public async Task A_body_sent_without_waiting_for_100_reaches_a_destination_that_never_sends_one()
    {
        // Python's and Go's simplest servers, and many others, read the body without answering 100. curl then
        // sends it after a second; the proxy held it back, waiting for a 100 that never came, until its response timeout.
        using var origin = new LoopbackTcpServer(ReadBodyWithoutContinueAsync);
        using var client = await ConnectAsync();
        var stream = client.GetStream();

        await stream.WriteAsync(Head(origin.Port, contentLength: 10, expectContinue: true));
        await Task.Delay(200);
        await stream.WriteAsync("0123456789"u8.ToArray());

        var answer = await ProxyFixture.ReadAsync(stream, "got 10: 0123456789", TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.EndsWith("got 10: 0123456789", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("100 Continue", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_waits_sends_its_body_after_the_destinations_100_and_keeps_its_connection()
    {
        using var origin = new LoopbackTcpServer(async (socket, ct) =>
        {
            await using var stream = new NetworkStream(socket);
            await ProxyFixture.ReadRequestHeadAsync(stream, ct);
            await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), ct);
            await AnswerWithBodyAsync(stream, 10, ct);
        });
        using var client = await ConnectAsync();
        var stream = client.GetStream();

        await stream.WriteAsync(Head(origin.Port, contentLength: 10, expectContinue: true));
        var interim = await ProxyFixture.ReadAsync(stream, "\r\n\r\n", TimeSpan.FromSeconds(10));
        Assert.Equal("HTTP/1.1 100 Continue\r\n\r\n", interim);
        await stream.WriteAsync("abcdefghij"u8.ToArray());

        var answer = await ProxyFixture.ReadAsync(stream, "got 10: abcdefghij", TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("Connection: close", answer, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_destination_that_refuses_at_once_is_answered_without_the_body_and_the_client_connection_closes()
    {
        using var origin = new LoopbackTcpServer(AnswersAtOnce("HTTP/1.1 413 Content Too Large\r\nContent-Length: 8\r\n\r\ntoo big!"));
        using var client = await ConnectAsync();
        var stream = client.GetStream();

        await stream.WriteAsync(Head(origin.Port, contentLength: 1_000_000_000, expectContinue: true));

        // The proxy closes after the answer: the client has not sent the body it announced.
        var answer = await ProxyFixture.ReadAsync(stream, until: null, TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 413 ", answer, StringComparison.Ordinal);
        Assert.Contains("Connection: close", answer, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("too big!", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Neither_a_body_nor_an_answer_ends_in_504_after_the_response_timeout()
    {
        var limits = new EdgeLimits { ResponseTimeout = TimeSpan.FromSeconds(1) };
        await using var proxy = await ProxyFixture.StartAsync(_tenant, limits);
        using var origin = new LoopbackTcpServer(ReadBodyWithoutContinueAsync);
        using var client = new TcpClient();
        await client.ConnectAsync(proxy.Address);
        var stream = client.GetStream();

        await stream.WriteAsync(Head(origin.Port, contentLength: 10, expectContinue: true));

        var answer = await ProxyFixture.ReadAsync(stream, "</html>", TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 504 ", answer, StringComparison.Ordinal);
        var record = await proxy.Recorder.WaitForAsync(r => r.Port == origin.Port);
        Assert.Equal("the destination did not answer within 1 s", record.Reason);
    }

    [Fact]
    public async Task A_destination_that_switches_protocols_unasked_gets_502_at_once()
    {
        // Sent on, the 101 told the client the protocol had changed, and the edge waited for a final answer for 60 s.
        using var origin = new LoopbackTcpServer(AnswersAtOnce("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nraw bytes"));
        using var client = await ConnectAsync();
        var stream = client.GetStream();

        await stream.WriteAsync(Head(origin.Port, contentLength: 0, expectContinue: false));

        var answer = await ProxyFixture.ReadAsync(stream, "</html>", TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 502 ", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/1.1 101", answer, StringComparison.Ordinal);
        Assert.Contains("switched protocols", answer, StringComparison.Ordinal);
    }

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(_proxy.Address);
        return client;
    }

    private byte[] Head(int port, long contentLength, bool expectContinue) => Encoding.ASCII.GetBytes(
        $"POST http://127.0.0.1:{port}/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" +
        $"Proxy-Authorization: {ProxyFixture.Basic(_alice.Email, _alice.Password)}\r\n" +
        $"Content-Length: {contentLength}\r\n{(expectContinue ? "Expect: 100-continue\r\n" : "")}\r\n");

    /// <summary>An origin that reads the request head, sends <paramref name="answer"/> without reading any body, and holds the connection.</summary>
    private static Func<Socket, CancellationToken, Task> AnswersAtOnce(string answer) => async (socket, ct) =>
    {
        await using var stream = new NetworkStream(socket);
        await ProxyFixture.ReadRequestHeadAsync(stream, ct);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(answer), ct);
        await Task.Delay(Timeout.Infinite, ct);
    };

    /// <summary>An origin that reads the head and a 10-byte body, with no 100 first, and answers what it got.</summary>
    private static async Task ReadBodyWithoutContinueAsync(Socket socket, CancellationToken ct)
    {
        await using var stream = new NetworkStream(socket);
        await ProxyFixture.ReadRequestHeadAsync(stream, ct);
        await AnswerWithBodyAsync(stream, 10, ct);
    }

    private static async Task AnswerWithBodyAsync(NetworkStream stream, int length, CancellationToken ct)
    {
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, ct);
        var text = $"got {length}: {Encoding.ASCII.GetString(body)}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {text.Length}\r\n\r\n{text}"), ct);
    }
}
