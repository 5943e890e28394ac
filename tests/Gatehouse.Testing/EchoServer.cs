using System.Net.Sockets;

namespace Gatehouse.Testing;

/// <summary>
/// A TCP echo server on loopback, the destination of CONNECT, tunnel and private-app flows in tests: it sends
/// back what it receives, and half-closes when its client does.
/// </summary>
public sealed class EchoServer : IDisposable
{
    private readonly LoopbackTcpServer _server;
    private int _served;

    /// <summary>Starts listening on a port the kernel picks.</summary>
    public EchoServer() => _server = new LoopbackTcpServer(EchoAsync);

    /// <summary>The port it listens on.</summary>
    public int Port => _server.Port;

    /// <summary>Connections accepted, health checks' connects included.</summary>
    public int Accepted => _server.Accepted;

    /// <summary>Connections that sent bytes: flows, not health checks.</summary>
    public int Served => Volatile.Read(ref _served);

    /// <summary>Stops accepting and closes the connections.</summary>
    public void Dispose() => _server.Dispose();

    private async Task EchoAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        var first = true;
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, ct);
            if (n == 0)
            {
                socket.Shutdown(SocketShutdown.Send);
                return;
            }

            if (first)
            {
                first = false;
                Interlocked.Increment(ref _served);
            }

            await socket.SendAsync(buffer.AsMemory(0, n), ct);
        }
    }
}
