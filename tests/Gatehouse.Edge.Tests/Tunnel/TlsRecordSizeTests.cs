using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
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
            var buffer = new byte[64 * 1024];
            long received = 0;
            using var timeout = new CancellationTokenSource(TestTimeouts.Default);
            while (received < DownloadBytes)
            {
                var n = await stream.ReadAsync(buffer, timeout.Token);
                Assert.NotEqual(0, n);
                received += n;
            }
        }

        // A 4 KiB record is 4,118 bytes on the wire in TLS 1.3; the largest is 16,406.
        var (records, bytes, inLargeRecords) = tap.EdgeRecords();
        Assert.True(bytes >= DownloadBytes, $"the tap saw {bytes} bytes of records");
        Assert.True(inLargeRecords >= bytes * 3 / 4, $"{records} records carried {bytes} bytes, {inLargeRecords} of them in records over 8 KiB");
    }

    /// <summary>Writes a number of bytes to each connection, then closes it.</summary>
    private sealed class BulkSource : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

        public BulkSource(int bytes)
        {
            _listener.Start();
            _ = ServeAsync(bytes);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        private async Task ServeAsync(int bytes)
        {
            try
            {
                while (true)
                {
                    var socket = await _listener.AcceptSocketAsync();
                    _ = Task.Run(async () =>
                    {
                        using (socket)
                        {
                            var chunk = new byte[256 * 1024];
                            for (var sent = 0; sent < bytes; sent += chunk.Length)
                            {
                                await socket.SendAsync(chunk.AsMemory(0, Math.Min(chunk.Length, bytes - sent)));
                            }

                            socket.Shutdown(SocketShutdown.Both);
                        }
                    });
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        public void Dispose() => _listener.Stop();
    }

    /// <summary>A TCP relay in front of the edge that reads the record headers of what the edge sends.</summary>
    private sealed class RecordTap : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly IPEndPoint _edge;
        private readonly List<int> _recordLengths = [];
        private readonly CancellationTokenSource _stop = new();
        private Task _relay = Task.CompletedTask;

        private RecordTap(IPEndPoint edge) => _edge = edge;

        public IPEndPoint Address => (IPEndPoint)_listener.LocalEndpoint;

        public static Task<RecordTap> StartAsync(IPEndPoint edge)
        {
            var tap = new RecordTap(edge);
            tap._listener.Start();
            tap._relay = tap.RelayOneAsync();
            return Task.FromResult(tap);
        }

        public (int Records, long Bytes, long InLargeRecords) EdgeRecords()
        {
            lock (_recordLengths)
            {
                return (_recordLengths.Count, _recordLengths.Sum(l => (long)l), _recordLengths.Where(l => l > 8 * 1024).Sum(l => (long)l));
            }
        }

        private async Task RelayOneAsync()
        {
            using var device = await _listener.AcceptSocketAsync(_stop.Token);
            using var edge = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await edge.ConnectAsync(_edge, _stop.Token);
            var up = CopyAsync(device, edge, null);
            var down = CopyAsync(edge, device, _recordLengths);
            await Task.WhenAny(up, down);
        }

        private async Task CopyAsync(Socket from, Socket to, List<int>? records)
        {
            var buffer = new byte[64 * 1024];
            var header = new byte[5];
            var headerFill = 0;
            var bodyLeft = 0;
            try
            {
                while (true)
                {
                    var n = await from.ReceiveAsync(buffer, _stop.Token);
                    if (n == 0)
                    {
                        to.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    if (records is not null)
                    {
                        for (var i = 0; i < n;)
                        {
                            if (bodyLeft > 0)
                            {
                                var skip = Math.Min(bodyLeft, n - i);
                                bodyLeft -= skip;
                                i += skip;
                                continue;
                            }

                            header[headerFill++] = buffer[i++];
                            if (headerFill == header.Length)
                            {
                                bodyLeft = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(3));
                                headerFill = 0;
                                lock (records)
                                {
                                    records.Add(bodyLeft);
                                }
                            }
                        }
                    }

                    await to.SendAsync(buffer.AsMemory(0, n), _stop.Token);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The flow or the test ended.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _relay.ContinueWith(_ => { });
            _stop.Dispose();
        }
    }
}
