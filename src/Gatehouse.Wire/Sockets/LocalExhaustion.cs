using System.Net.Sockets;

namespace Gatehouse.Wire.Sockets;

/// <summary>Socket failures that say this side ran out of something, not that the peer or the network failed.</summary>
public static class LocalExhaustion
{
    /// <summary>
    /// Whether <paramref name="error"/> says the process is at its descriptor limit (EMFILE; ENFILE for the system) or the
    /// system is out of buffers (ENOBUFS, ENOMEM): trying another address or the next client at once fares no better.
    /// </summary>
    /// <param name="error">The failed call's error.</param>
    public static bool Is(SocketError error) => error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable;
}
