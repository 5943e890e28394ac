using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Testing;

/// <summary>
/// A TCP server on loopback that hands each accepted connection to a function, for tests whose destination is
/// plain TCP (echo, download). The connection closes when the function returns; disposing the server stops
/// accepting and cancels the functions' token.
/// </summary>
public sealed class LoopbackTcpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Socket, CancellationToken, Task> _serve;
    private int _accepted;

    /// <summary>Starts listening on a port the kernel picks.</summary>
    /// <param name="serve">Serves one connection; a socket or cancellation error ends it quietly.</param>
    public LoopbackTcpServer(Func<Socket, CancellationToken, Task> serve)
    {
        ArgumentNullException.ThrowIfNull(serve);
        _serve = serve;
        _listener.Start(1024);
        _ = AcceptAsync();
    }

    /// <summary>The port it listens on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many connections it accepted.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Stops accepting and cancels the connections being served.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                _ = ServeAsync(socket, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException || (e is InvalidOperationException && _stop.IsCancellationRequested))
        {
            // Stopped.
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken ct)
    {
        using (socket)
        {
            try
            {
                await _serve(socket, ct);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client went away, or the server stopped.
            }
        }
    }
}
