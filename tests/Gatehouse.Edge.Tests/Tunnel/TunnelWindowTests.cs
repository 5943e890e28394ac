using Gatehouse.Edge.Flows;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>
/// The upload windows the tunnel listener gives agents: what one flow, and one agent connection, can make the edge
/// hold ahead of slow destinations (<c>--tunnel-stream-window</c>, <c>--tunnel-connection-window</c>).
/// </summary>
public sealed class TunnelWindowTests
{
    [Fact]
    public async Task The_edge_gives_agents_the_windows_it_was_configured_with()
    {
        await using var edge = await TunnelFixture.StartAsync(new EdgeLimits { TunnelStreamWindowBytes = 256 * 1024, TunnelConnectionWindowBytes = 1024 * 1024 });

        var (stream, connection) = await ReadWindowsAsync(edge);

        Assert.Equal(256 * 1024, stream);
        Assert.Equal(1024 * 1024, connection);
    }

    [Fact]
    public async Task By_default_a_flow_may_have_8_MiB_and_a_connection_16_MiB_ahead()
    {
        await using var edge = await TunnelFixture.StartAsync();

        var (stream, connection) = await ReadWindowsAsync(edge);

        Assert.Equal(8 * 1024 * 1024, stream);
        Assert.Equal(16 * 1024 * 1024, connection);
    }

    private static async Task<(int Stream, long Connection)> ReadWindowsAsync(TunnelFixture edge)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        using var device = edge.Device.CreateCertificateWithKey();
        await using var raw = await RawTunnelConnection.OpenAsync(edge.TunnelAddress, device, edge.Device.TenantCa, edge.Device.Identity.TenantId.ToString(), timeout.Token);
        return await raw.ReadEdgeWindowsAsync(timeout.Token);
    }
}
