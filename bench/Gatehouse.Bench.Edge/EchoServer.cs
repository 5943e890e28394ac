using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Bench.Edge;

/// <summary>The destination of held flows: sends back whatever it reads until the other side closes.</summary>
internal sealed class EchoServer : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly CancellationTokenSource _stop = new();
    private int _open;

    public EchoServer()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        _ = AcceptAsync();
    }

    public IPEndPoint Address => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Connections open now.</summary>
    public int Open => Volatile.Read(ref _open);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                _ = EchoAsync(await _listener.AcceptAsync(_stop.Token));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task EchoAsync(Socket socket)
    {
        Interlocked.Increment(ref _open);
        var buffer = new byte[256];
        try
        {
            using (socket)
            {
                int read;
                while ((read = await socket.ReceiveAsync(buffer, _stop.Token)) > 0)
                {
                    await socket.SendAsync(buffer.AsMemory(0, read), _stop.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The flow was reset or the load is over.
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _stop.Dispose();
    }
}
