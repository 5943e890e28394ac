using Gatehouse.Testing;
using Gatehouse.Tunnel;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>How much of a flow the edge sends ahead of what the device has read.</summary>
public sealed class TunnelFlowControlTests : IAsyncLifetime
{
    private const int DownloadBytes = 32 * 1024 * 1024;
    private TunnelFixture _t = null!;

    public async Task InitializeAsync() => _t = await TunnelFixture.StartAsync();

    public async Task DisposeAsync() => await _t.DisposeAsync();

    [Fact]
    public async Task A_flow_the_application_does_not_read_holds_no_more_than_its_first_window_in_the_device()
    {
        // Each flow's window was 8 MiB: twenty downloads an application had paused held about 270 MB in the agent.
        using var source = new BulkSource(DownloadBytes);
        await using var tap = await RecordTap.StartAsync(_t.TunnelAddress);
        using var client = new TunnelClient(tap.Address.ToString(), _t.Device.CreateCertificateWithKey(), _t.Device.TenantCa, _t.Device.Identity.TenantId.ToString());

        var opened = await client.OpenAsync("localhost", source.Port).DefaultTimeout();
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        await using var stream = opened.Stream!;

        // Read nothing: the edge may send only as much as the stream's window lets it.
        var sent = await SettledAsync(() => tap.EdgeRecords().Bytes);
        Assert.InRange(sent, TunnelClient.InitialStreamWindowBytes / 2, TunnelClient.InitialStreamWindowBytes + (256 * 1024));

        // And the rest comes as the application reads.
        await BulkSource.ReceiveAsync(stream, DownloadBytes);
    }

    /// <summary>The value once it has not changed for half a second.</summary>
    private static async Task<long> SettledAsync(Func<long> read)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        var last = -1L;
        while (true)
        {
            await Task.Delay(500, timeout.Token);
            var now = read();
            if (now == last && now > 0)
            {
                return now;
            }

            last = now;
        }
    }
}
