using Gatehouse.Testing;
using Gatehouse.Tunnel;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>The size of the TLS records the tunnel listener sends a bulk stream in.</summary>
public sealed class TlsRecordSizeTests : IAsyncLifetime
{
    private const int DownloadBytes = 4 * 1024 * 1024;
    private TunnelFixture _t = null!;

    public async Task InitializeAsync() => _t = await TunnelFixture.StartAsync();

    public async Task DisposeAsync() => await _t.DisposeAsync();

    [Fact]
    public async Task A_bulk_download_reaches_the_device_in_full_size_records()
    {
        using var source = new BulkSource(DownloadBytes);
        await using var tap = await RecordTap.StartAsync(_t.TunnelAddress);
        using var client = new TunnelClient(tap.Address.ToString(), _t.Device.CreateCertificateWithKey(), _t.Device.TenantCa, _t.Device.Identity.TenantId.ToString());

        var opened = await client.OpenAsync("localhost", source.Port).DefaultTimeout();
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        await using (var stream = opened.Stream!)
        {
            await BulkSource.ReceiveAsync(stream, DownloadBytes);
        }

        // A 4 KiB record is 4,118 bytes on the wire in TLS 1.3; the largest is 16,406.
        var (records, bytes, inLargeRecords) = tap.EdgeRecords();
        Assert.True(bytes >= DownloadBytes, $"the tap saw {bytes} bytes of records");
        Assert.True(inLargeRecords >= bytes * 3 / 4, $"{records} records carried {bytes} bytes, {inLargeRecords} of them in records over 8 KiB");
    }
}
