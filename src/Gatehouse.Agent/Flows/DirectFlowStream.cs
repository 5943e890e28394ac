using System.Net.Sockets;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Agent.Flows;

/// <summary>A flow that goes direct, on a socket of its own to the destination, which it owns.</summary>
/// <param name="socket">The connected socket.</param>
internal sealed class DirectFlowStream(Socket socket) : NetworkStream(socket, ownsSocket: true), IFlowStream
{
    /// <summary>Shuts down sending (a FIN); reading goes on. A socket's sends leave no bytes behind to wait for.</summary>
    public ValueTask CompleteWritesAsync(CancellationToken ct = default)
    {
        Socket.Shutdown(SocketShutdown.Send);
        return ValueTask.CompletedTask;
    }

    /// <summary>Closes the socket with a reset (<see cref="AbortiveClose.Reset"/>).</summary>
    public void Reset() => AbortiveClose.Reset(Socket);
}
