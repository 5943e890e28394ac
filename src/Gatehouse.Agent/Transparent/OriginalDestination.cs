using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Agent.Transparent;

/// <summary>
/// Where a redirected connection was going before the agent's nftables rule redirected it to the
/// agent: <c>getsockopt(SOL_IP, SO_ORIGINAL_DST)</c>, which conntrack answers (Linux, IPv4).
/// </summary>
internal static class OriginalDestination
{
    private const int SolIp = 0;
    private const int SoOriginalDst = 80;

    /// <summary>The original destination, or null when the connection was not redirected (conntrack knows nothing of it).</summary>
    public static IPEndPoint? Of(Socket socket)
    {
        Span<byte> address = stackalloc byte[16]; // struct sockaddr_in
        try
        {
            var length = socket.GetRawSocketOption(SolIp, SoOriginalDst, address);
            if (length < 8 || BinaryPrimitives.ReadUInt16LittleEndian(address) != 2 /* AF_INET */)
            {
                return null;
            }
        }
        catch (SocketException)
        {
            return null;
        }

        var port = BinaryPrimitives.ReadUInt16BigEndian(address[2..]);
        return new IPEndPoint(new IPAddress(address.Slice(4, 4)), port);
    }
}
