using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Flows;

/// <summary>One application connection to one of the agent's listeners.</summary>
internal interface IFlowSession : IDisposable
{
    /// <summary>Serves the connection until it ends or <paramref name="stopping"/> fires.</summary>
    Task RunAsync(CancellationToken stopping);

    /// <summary>Cuts the connection (the listener is stopping).</summary>
    void Abort();
}

/// <summary>
/// A TCP listener of the agent (the local proxy, the transparent listener): accepts applications'
/// connections and runs a session for each; stopping it cuts the sessions still open.
/// </summary>
internal sealed class FlowListener : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<Socket, IFlowSession> _session;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<IFlowSession> _sessions = [];
    private Task _accepting = Task.CompletedTask;

    private FlowListener(Socket listener, Func<Socket, IFlowSession> session)
    {
        _listener = listener;
        _session = session;
    }

    /// <summary>Where it listens (the port is known after binding port 0).</summary>
    public IPEndPoint Address => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Binds <paramref name="endpoint"/> and starts accepting.</summary>
    /// <exception cref="SocketException">The address is in use or cannot be bound.</exception>
    /// <param name="endpoint">The address.</param>
    /// <param name="session">Makes the session of an accepted connection.</param>
    /// <param name="what">What listens, for the log ("local proxy").</param>
    /// <param name="logger">The log.</param>
    public static FlowListener Start(IPEndPoint endpoint, Func<Socket, IFlowSession> session, string what, ILogger logger)
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

        var server = new FlowListener(listener, session);
        server._accepting = server.AcceptLoopAsync();
        AgentLog.Listening(logger, what, server.Address.ToString());
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        IFlowSession[] open;
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
        var session = _session(client);
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
