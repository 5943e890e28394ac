using System.Net.Sockets;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>
/// Answers each line a client sends with <see cref="Size"/> bytes, a short head and then the rest as two sends,
/// and keeps the connection open, as a kept-alive web server does.
/// </summary>
internal sealed class DownloadServer : IDisposable
{
    private const int HeadBytes = 200;
    private readonly LoopbackTcpServer _server;

    public DownloadServer(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, HeadBytes);
        Size = size;
        _server = new LoopbackTcpServer(AnswerAsync);
    }

    public int Size { get; }

    public int Port => _server.Port;

    public void Dispose() => _server.Dispose();

    private async Task AnswerAsync(Socket socket, CancellationToken ct)
    {
        var body = new byte[Size];
        var buffer = new byte[1024];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, ct)) > 0)
        {
            if (buffer.AsSpan(0, n).Contains((byte)'\n'))
            {
                await socket.SendAsync(body.AsMemory(0, HeadBytes), ct);
                await socket.SendAsync(body.AsMemory(HeadBytes), ct);
            }
        }
    }
}
