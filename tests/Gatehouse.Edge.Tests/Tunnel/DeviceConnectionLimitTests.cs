using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Tunnel;
using Gatehouse.Testing;
using Gatehouse.Tunnel;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>A device certificate's connections to the tunnel listener are counted and held to a limit, oldest out first.</summary>
public sealed class DeviceConnectionLimitTests : IAsyncLifetime
{
    private TunnelFixture _t = null!;

    public async Task InitializeAsync() =>
        _t = await TunnelFixture.StartAsync(new EdgeLimits { IdleTimeout = TimeSpan.FromSeconds(20), MaxConnectionsPerDevice = 2 });

    public async Task DisposeAsync() => await _t.DisposeAsync();

    [Fact]
    public async Task A_connection_past_the_devices_limit_closes_its_oldest_and_other_devices_go_on()
    {
        // Each tunnel client is one connection. One device could open connections without end, each able to make
        // the edge hold 16 MiB of uploads.
        using var first = _t.Client(_t.Device);
        using var second = _t.Client(_t.Device);
        await using var oldest = await OpenEchoAsync(first);
        await using var b = await OpenEchoAsync(second);
        var otherDevice = await _t.EnrollDeviceAsync("laptop-2", _t.User.Email);
        await _t.WaitForDeviceAsync(otherDevice);
        using var otherClient = _t.Client(otherDevice);
        await using var other = await OpenEchoAsync(otherClient);

        // A third connection of the device is served, and its first is closed, the flow on it cut.
        using var third = _t.Client(_t.Device);
        await using var c = await OpenEchoAsync(third);
        Assert.Equal("new", await TunnelFixture.EchoAsync(c, "new"));
        await AssertCutAsync(oldest);

        // The device's second connection and the other device's carry on.
        Assert.Equal("pong", await TunnelFixture.EchoAsync(b, "pong"));
        Assert.Equal("else", await TunnelFixture.EchoAsync(other, "else"));

        using var ops = new HttpClient();
        var metrics = await ops.GetStringAsync(new Uri(_t.Edge.OpsAddress, "/metrics"));
        Assert.Matches(@"(?m)^gatehouse_edge_tunnel_connections_over_device_limit_total 1\b", metrics);
    }

    [Fact]
    public void Connections_past_the_limit_close_the_devices_oldest_and_ended_ones_are_forgotten()
    {
        var limit = new DeviceConnectionLimit(2, NullLogger.Instance);
        var (a1, a2, a3, b1) = (new DefaultConnectionContext("a1"), new DefaultConnectionContext("a2"), new DefaultConnectionContext("a3"), new DefaultConnectionContext("b1"));

        var first = limit.Open("a", a1);
        var second = limit.Open("a", a2);
        var other = limit.Open("b", b1);
        Assert.Null(first.Oldest);
        Assert.Null(second.Oldest);
        Assert.Null(other.Oldest);

        var third = limit.Open("a", a3);
        Assert.Same(a1, third.Oldest);
        Assert.Equal(1, limit.Closed);

        // The closed one ending later changes nothing; the others ending empty the count.
        limit.Close("a", first.Node);
        var fourth = limit.Open("a", new DefaultConnectionContext("a4"));
        Assert.Same(a2, fourth.Oldest);
        foreach (var (device, node) in new[] { ("a", second.Node), ("a", third.Node), ("a", fourth.Node), ("b", other.Node) })
        {
            limit.Close(device, node);
        }

        Assert.Equal(0, limit.Devices);
        Assert.Equal(2, limit.Closed);
    }

    private static async Task AssertCutAsync(Stream flow)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        try
        {
            var buffer = new byte[16];
            while (await flow.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException)
        {
            // Cut: as a connection that ended.
        }
    }

    private async Task<Stream> OpenEchoAsync(TunnelClient client)
    {
        var opened = await client.OpenAsync("localhost", _t.Echo.Port).DefaultTimeout();
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        return opened.Stream!;
    }
}
