using System.Buffers.Binary;
using System.Net.Sockets;

namespace Gatehouse.Agent.LocalApi;

/// <summary>Who is on the other end of a Unix socket, as the kernel says (<c>SO_PEERCRED</c>): it cannot be forged by the peer.</summary>
/// <param name="Pid">The peer's process id when it connected.</param>
/// <param name="Uid">The peer's user id.</param>
/// <param name="Gid">The peer's group id.</param>
internal readonly record struct PeerCredentials(int Pid, int Uid, int Gid)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>The user id of this process.</summary>
    public static int CurrentUid { get; } = GetCurrentUid();

    /// <summary>Whether the peer may change the agent: root, or the user the agent itself runs as.</summary>
    public bool MayAdminister => Uid == 0 || Uid == CurrentUid;

    /// <summary>Reads the peer's credentials of a connected Unix socket.</summary>
    /// <exception cref="SocketException">The socket is not a connected Unix socket.</exception>
    public static PeerCredentials Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 12)
        {
            throw new SocketException((int)SocketError.InvalidArgument);
        }

        return new PeerCredentials(
            BinaryPrimitives.ReadInt32LittleEndian(ucred),
            BinaryPrimitives.ReadInt32LittleEndian(ucred[4..]),
            BinaryPrimitives.ReadInt32LittleEndian(ucred[8..]));
    }

    private static int GetCurrentUid()
    {
        // /proc/self/status holds "Uid:\treal\teffective\t...": the effective id is what the kernel reports to peers.
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Uid:", StringComparison.Ordinal))
            {
                var fields = line[4..].Split('\t', StringSplitOptions.RemoveEmptyEntries);
                return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }
}
