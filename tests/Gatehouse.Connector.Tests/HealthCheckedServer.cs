using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Connector.Tests;

/// <summary>
/// An app server on one address: <c>GET /healthz</c> answers with <see cref="HealthStatus"/>; any other first
/// bytes make the connection an echo (a flow), counted in <see cref="Served"/>.
/// </summary>
internal sealed class HealthCheckedServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private int _served;

    public HealthCheckedServer(IPAddress address, int port)
    {
        _listener = new TcpListener(address, port);
        _listener.Start(256);
        _ = AcceptAsync();
    }

    /// <summary>What the health path answers.</summary>
    public int HealthStatus { get; set; } = 200;

    /// <summary>Flows served (not health checks).</summary>
    public int Served => Volatile.Read(ref _served);

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                _ = ServeAsync(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                var n = await socket.ReceiveAsync(buffer);
                if (n == 0)
                {
                    return;
                }

                if (Encoding.ASCII.GetString(buffer, 0, n).StartsWith("GET /healthz ", StringComparison.Ordinal))
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {HealthStatus} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                    return;
                }

                Interlocked.Increment(ref _served);
                while (n > 0)
                {
                    await socket.SendAsync(buffer.AsMemory(0, n));
                    n = await socket.ReceiveAsync(buffer);
                }

                socket.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // The peer went away.
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
