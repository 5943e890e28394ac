using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>A TCP relay in front of the edge that reads the record headers of what the edge sends.</summary>
internal sealed class RecordTap : IAsyncDisposable
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
