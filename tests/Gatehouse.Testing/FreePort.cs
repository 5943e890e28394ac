using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Testing;

/// <summary>Probes free TCP ports, so that tests never hard-code one.</summary>
public static class FreePort
{
    /// <summary>
    /// Returns a TCP port on 127.0.0.1 that was free a moment ago: the kernel picks it for a
    /// socket bound to port 0, which is closed again before this returns.
    /// </summary>
    /// <remarks>
    /// Another process may take the port between this call and its use; servers that can
    /// listen on port 0 themselves should do that instead.
    /// </remarks>
    public static int GetLoopbackTcpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
