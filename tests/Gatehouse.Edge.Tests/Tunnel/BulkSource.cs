using System.Net;
using System.Net.Sockets;

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
