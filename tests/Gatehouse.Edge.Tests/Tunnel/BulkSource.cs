using System.Net.Sockets;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>Writes a number of bytes to each connection, then closes it.</summary>
internal sealed class BulkSource : IDisposable
{
    private readonly LoopbackTcpServer _server;

    public BulkSource(int bytes) => _server = new LoopbackTcpServer(async (socket, ct) =>
    {
        var chunk = new byte[256 * 1024];
        for (var sent = 0; sent < bytes; sent += chunk.Length)
        {
            await socket.SendAsync(chunk.AsMemory(0, Math.Min(chunk.Length, bytes - sent)), ct);
        }

        socket.Shutdown(SocketShutdown.Both);
    });

    public int Port => _server.Port;

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

    public void Dispose() => _server.Dispose();
}
