using System.Net.Sockets;

namespace Gatehouse.Wire.Sockets;

/// <summary>Closing a connection with a TCP reset rather than a FIN.</summary>
public static class AbortiveClose
{
    /// <summary>
    /// Closes <paramref name="socket"/> with no lingering, so the peer sees a reset: what it was sent did not end, it was
    /// cut (a download whose end is the connection's end would look complete after a FIN). Quiet when already closed.
    /// </summary>
    public static void Reset(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        try
        {
            socket.LingerState = new LingerOption(enable: true, seconds: 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }
}
