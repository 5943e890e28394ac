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
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<Socket, CancellationToken, Task> _serve;
    private int _accepted;

    /// <summary>Starts listening on a port the kernel picks.</summary>
    /// <param name="serve">Serves one connection; a socket or cancellation error ends it quietly.</param>
    public LoopbackTcpServer(Func<Socket, CancellationToken, Task> serve)
        : this(0, serve)
    {
    }

    /// <summary>
    /// Starts listening on <paramref name="port"/>, or on a port the kernel picks if it is 0. A server started
    /// again on the port of one that stopped takes it at once, as a restarted service would.
    /// </summary>
    /// <param name="port">The port, or 0.</param>
    /// <param name="serve">Serves one connection; a socket or cancellation error ends it quietly.</param>
    public LoopbackTcpServer(int port, Func<Socket, CancellationToken, Task> serve)
    {
        ArgumentNullException.ThrowIfNull(serve);
        _serve = serve;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start(1024);
        _ = AcceptAsync();
    }

    /// <summary>
    /// A destination that answers each connection's first bytes with <paramref name="answer"/>, then resets the
    /// connection (no lingering: the client sees a RST, not a FIN).
    /// </summary>
    /// <param name="answer">What it sends before the reset.</param>
    public static LoopbackTcpServer ResettingAfter(string answer) => new(async (socket, ct) =>
    {
        await socket.ReceiveAsync(new byte[4096], ct);
        await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(answer), ct);
        await Task.Delay(200, ct);
        socket.LingerState = new LingerOption(enable: true, seconds: 0);
        socket.Close();
    });

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
        // Taken once: a connection accepted as the server stops is served with the cancelled token, and closed,
        // where reading the token of the disposed source would throw and leave it open.
        var stopping = _stop.Token;
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(stopping);
                Interlocked.Increment(ref _accepted);
                _ = ServeAsync(socket, stopping);
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
