using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>Answers each line a client sends with <c>size</c> bytes, and keeps the connection open, as a kept-alive web server does.</summary>
internal sealed class DownloadServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public DownloadServer(int size)
    {
        Size = size;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Size { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                _ = AnswerAsync(await _listener.AcceptSocketAsync(_stop.Token));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task AnswerAsync(Socket socket)
    {
        using (socket)
        {
            var body = new byte[Size];
            var buffer = new byte[1024];
            try
            {
                while (true)
                {
                    var n = await socket.ReceiveAsync(buffer, _stop.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    if (buffer.AsSpan(0, n).Contains((byte)'\n'))
                    {
                        // A head, then the body, as two sends.
                        await socket.SendAsync(body.AsMemory(0, 200), _stop.Token);
                        await socket.SendAsync(body.AsMemory(200), _stop.Token);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}
