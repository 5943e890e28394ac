using System.Net;
using System.Net.Sockets;
using Gatehouse.Testing;
using Gatehouse.Testing.Tls;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>
/// Agents time a TCP handshake with every edge once a second (<see cref="ReachabilityProbe"/>); the edge's tunnel
/// listener must not pay for each as a connection.
/// </summary>
public sealed class ReachabilityProbeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_listener_that_defers_accept_is_handed_the_client_that_sends_and_never_the_probes_before_it()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        ReachabilityProbe.DeferAccept(listener);
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        for (var i = 0; i < 5; i++)
        {
            var roundTrip = await ReachabilityProbe.RoundTripAsync("127.0.0.1", port, Timeout, mark: null, CancellationToken.None);
            Assert.NotNull(roundTrip);
            Assert.True(roundTrip > TimeSpan.Zero);
        }

        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, port);
        await client.SendAsync(new byte[] { 0x16 });

        // Accepted connections queue in the order they were made: a probe that reached the queue would come first.
        using var accepted = await listener.AcceptAsync().DefaultTimeout();
        Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
    }

    [Fact]
    public async Task A_port_nobody_listens_on_gives_no_round_trip()
    {
        using var bound = new Socket(SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)bound.LocalEndPoint!).Port;

        Assert.Null(await ReachabilityProbe.RoundTripAsync("127.0.0.1", port, Timeout, mark: null, CancellationToken.None));
    }

    [Fact]
    public async Task A_cancelled_probe_throws_instead_of_reporting_the_edge_down()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReachabilityProbe.RoundTripAsync("127.0.0.1", 9, Timeout, mark: null, cancelled.Token));
    }

    [Fact]
    public async Task The_edge_accepts_no_connection_for_probes_and_still_serves_devices()
    {
        await using var t = await TunnelFixture.StartAsync();
        using var endings = new ConnectionEndings(t.TunnelAddress.Port);

        for (var i = 0; i < 20; i++)
        {
            Assert.NotNull(await ReachabilityProbe.RoundTripAsync("127.0.0.1", t.TunnelAddress.Port, Timeout, mark: null, CancellationToken.None));
        }

        // One connection that sends something and leaves: the first, and only, connection Kestrel sees end.
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(t.TunnelAddress);
            await client.GetStream().WriteAsync("not a ClientHello\r\n"u8.ToArray());
        }

        await endings.UnhandledExceptionsAsync(connections: 1);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Equal(1, endings.Ended);
        Assert.Equal("after the probes", await t.EchoThroughTunnelAsync("after the probes"));
    }
}
