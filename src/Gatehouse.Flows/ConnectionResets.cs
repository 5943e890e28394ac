using Gatehouse.Wire.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Gatehouse.Flows;

/// <summary>Ending a Kestrel connection with a TCP reset rather than a FIN.</summary>
public static class ConnectionResets
{
    /// <summary>
    /// Ends <paramref name="connection"/> with a reset: Kestrel's own abort closes gracefully, and a FIN would tell the
    /// peer that what it was sent ended, where it was cut (a download whose end is the connection's, or a TLS session that
    /// reads a FIN without close_notify as an end, would look complete). The socket is closed with no lingering
    /// (<see cref="AbortiveClose.Reset"/>), then the connection aborted so that Kestrel lets go of it.
    /// </summary>
    /// <param name="connection">The connection to cut.</param>
    /// <param name="why">Why, for the abort.</param>
    public static void Reset(ConnectionContext connection, string why)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            AbortiveClose.Reset(socket);
        }

        connection.Abort(new ConnectionAbortedException(why));
    }
}
