using System.Net;
using System.Net.Sockets;
using Gatehouse.Agent.Edges;
using Gatehouse.Agent.State;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.LocalProxy;

/// <summary>
/// The local-proxy interception mode: an HTTP proxy on loopback (CONNECT and absolute-form) and its PAC
/// file. Every flow goes to an edge through the tunnel; it needs no root.
/// </summary>
internal sealed class LocalProxyServer : IAsyncDisposable
{
    /// <summary>The default address (docs/architecture.md, "Defaults on one machine").</summary>
    public const string DefaultListen = "127.0.0.1:9000";

    private readonly Socket _listener;
    private readonly EdgeSet _edges;
    private readonly AgentState _state;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<LocalProxySession> _sessions = [];
    private Task _accepting = Task.CompletedTask;

    private LocalProxyServer(Socket listener, EdgeSet edges, AgentState state, ILogger logger)
    {
        _listener = listener;
        _edges = edges;
        _state = state;
        _logger = logger;
    }

    /// <summary>Where it listens (the port is known after binding port 0).</summary>
    public IPEndPoint Address => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Binds <paramref name="endpoint"/> and starts accepting.</summary>
    /// <exception cref="SocketException">The address is in use or cannot be bound.</exception>
    public static LocalProxyServer Start(IPEndPoint endpoint, EdgeSet edges, AgentState state, ILogger logger)
    {
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(endpoint);
            listener.Listen(512);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var server = new LocalProxyServer(listener, edges, state, logger);
        server._accepting = server.AcceptLoopAsync();
        AgentLog.LocalProxyListening(logger, server.Address.ToString());
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        LocalProxySession[] open;
        lock (_sessions)
        {
            open = [.. _sessions];
        }

        foreach (var session in open)
        {
            session.Abort();
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            client.NoDelay = true;
            _ = RunSessionAsync(client);
        }
    }

    private async Task RunSessionAsync(Socket client)
    {
        var session = new LocalProxySession(client, _edges, _state, Address.ToString(), _logger);
        lock (_sessions)
        {
            _sessions.Add(session);
        }

        try
        {
            await session.RunAsync(_stop.Token);
        }
        finally
        {
            lock (_sessions)
            {
                _sessions.Remove(session);
            }

            session.Dispose();
        }
    }
}
