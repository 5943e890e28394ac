using System.Net.Sockets;

namespace Gatehouse.Wire.Sockets;

/// <summary>
/// The Linux socket mark (<c>SO_MARK</c>) on a process's own outbound sockets. A process that redirects
/// the machine's traffic to itself (the agent's transparent mode) marks its sockets so that its rules
/// let them pass instead of redirecting the process to itself. Setting a mark needs CAP_NET_ADMIN.
/// </summary>
public static class SocketMark
{
    private const int SolSocket = 1;
    private const int SoMark = 36;

    /// <summary>Marks <paramref name="socket"/> before it connects.</summary>
    /// <exception cref="SocketException">The process may not set marks (no CAP_NET_ADMIN), or this is not Linux.</exception>
    public static void Apply(Socket socket, int mark)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> value = stackalloc byte[4];
        BitConverter.TryWriteBytes(value, mark);
        socket.SetRawSocketOption(SolSocket, SoMark, value);
    }

    /// <summary>Marks the socket when <paramref name="mark"/> is set.</summary>
    public static void ApplyIfSet(Socket socket, int? mark)
    {
        if (mark is { } value)
        {
            Apply(socket, value);
        }
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/> whose sockets carry <paramref name="mark"/> when it is
    /// set; otherwise it connects as the handler would (happy eyeballs left to the OS resolver's order).
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(int? mark) =>
        async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                ApplyIfSet(socket, mark);
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
}
