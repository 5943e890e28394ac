using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Flows;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>
/// An edge at its descriptor limit: opening a socket to the destination fails as it does then (EMFILE), given by the test,
/// since lowering this process's own limit would fail every test running beside it.
/// </summary>
public sealed class OutOfSocketsTests : IAsyncLifetime
{
    private const string NoSocketReason = "the descriptor limit is reached";
    private readonly TestTenant _tenant = new();
    private (string Id, string Email, string Password) _alice;
    private ProxyFixture _proxy = null!;

    public async Task InitializeAsync()
    {
        _alice = _tenant.AddUser("alice@example.test", "staff");
        _proxy = await ProxyFixture.StartAsync(_tenant, openSocket: _ => throw new SocketException((int)SocketError.TooManyOpenSockets));
    }

    public async Task DisposeAsync() => await _proxy.DisposeAsync();

    [Fact]
    public async Task A_request_gets_503_saying_why_and_is_recorded_instead_of_a_closed_connection()
    {
        using var client = _proxy.Client(_alice.Email, _alice.Password);

        using var response = await client.GetAsync("http://127.0.0.1:9/anything");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains(NoSocketReason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The client's first try, without credentials, is recorded too (407, denied).
        var record = await _proxy.Recorder.WaitForAsync(r => r.Url == "http://127.0.0.1:9/anything" && r.Status != 407);
        Assert.Equal(TransactionActions.Error, record.Action);
        Assert.Equal(503, record.Status);
        Assert.Contains(NoSocketReason, record.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connect_gets_503_saying_why()
    {
        var answer = await _proxy.RawAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:9 HTTP/1.1\r\nProxy-Authorization: {ProxyFixture.Basic(_alice.Email, _alice.Password)}\r\n\r\n"));

        Assert.StartsWith("HTTP/1.1 503 ", answer, StringComparison.Ordinal);
        Assert.Contains(NoSocketReason, answer, StringComparison.Ordinal);
        var record = await _proxy.Recorder.WaitForAsync(r => r.Method == "CONNECT");
        Assert.Equal(503, record.Status);
    }

    [Fact]
    public async Task The_dialer_says_no_socket_and_tries_no_other_address()
    {
        var opened = 0;
        var dialer = new FlowDialer(new EgressGuard([IPNetwork.Parse("127.0.0.0/8")]), TimeSpan.FromSeconds(5), openSocket: _ =>
        {
            opened++;
            throw new SocketException((int)SocketError.TooManyOpenSockets);
        });

        var connection = await dialer.ConnectAsync([IPAddress.Loopback, IPAddress.Parse("127.0.0.2")], 9, CancellationToken.None);

        Assert.Equal(DialError.NoSocket, connection.Error);
        Assert.Null(connection.Socket);
        Assert.Equal(1, opened);
        Assert.Contains(NoSocketReason, connection.Reason, StringComparison.Ordinal);
    }
}
