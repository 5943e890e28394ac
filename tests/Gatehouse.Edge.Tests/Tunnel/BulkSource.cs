using System.Net;
using System.Net.Sockets;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>Writes a number of bytes to each connection, then closes it.</summary>
internal sealed class BulkSource : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public BulkSource(int bytes)
    {
        _listener.Start();
        _ = ServeAsync(bytes);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Reads <paramref name="bytes"/> bytes from <paramref name="stream"/>; fails the test if it ends first.</summary>
    public static async Task ReceiveAsync(Stream stream, int bytes)
    {
        var buffer = new byte[64 * 1024];
        long received = 0;
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (received < bytes)
        {
            var n = await stream.ReadAsync(buffer, timeout.Token);
            Assert.NotEqual(0, n);
            received += n;
        }
    }

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
