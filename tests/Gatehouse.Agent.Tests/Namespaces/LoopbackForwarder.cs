using System.Net;
using System.Net.Sockets;
using Gatehouse.Testing.Namespaces;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>Listens on 127.0.0.1:PORT inside a namespace and carries each connection to 127.0.0.1:PORT here.</summary>
internal sealed class LoopbackForwarder : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public LoopbackForwarder(NetworkNamespace inside, int port)
    {
        _port = port;
        _listener = inside.CreateSocket(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen(64);
            return socket;
        });
        _loop = AcceptAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _loop;
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _listener.AcceptAsync(_stop.Token);
                _ = CarryAsync(client);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private async Task CarryAsync(Socket client)
    {
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await using var a = new NetworkStream(client, ownsSocket: true);
        try
        {
            await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _port), _stop.Token);
            await using var b = new NetworkStream(upstream, ownsSocket: false);
            var up = CopyAsync(a, b, upstream);
            var down = CopyAsync(b, a, client);
            await Task.WhenAll(up, down);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // Either side went away.
        }
    }

    private async Task CopyAsync(Stream from, Stream to, Socket toSocket)
    {
        try
        {
            await from.CopyToAsync(to, _stop.Token);
            toSocket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Closed.
        }
    }
}
