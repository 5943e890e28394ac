using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Agent.Transparent;

/// <summary>
/// Where a redirected connection was going before the agent's nftables rule redirected it to the
/// agent: <c>getsockopt(SOL_IP, SO_ORIGINAL_DST)</c> for IPv4 and <c>getsockopt(SOL_IPV6,
/// IP6T_SO_ORIGINAL_DST)</c> for IPv6, which conntrack answers (Linux).
/// </summary>
internal static class OriginalDestination
{
    private const int SolIp = 0;
    private const int SolIpv6 = 41;
    private const int SoOriginalDst = 80; // IP6T_SO_ORIGINAL_DST has the same number

    /// <summary>The original destination, or null when the connection was not redirected (conntrack knows nothing of it).</summary>
    public static IPEndPoint? Of(Socket socket) =>
        socket.AddressFamily == AddressFamily.InterNetworkV6 ? OfIpv6(socket) : OfIpv4(socket);

    private static IPEndPoint? OfIpv6(Socket socket)
    {
        Span<byte> address = stackalloc byte[28]; // struct sockaddr_in6
        try
        {
            var length = socket.GetRawSocketOption(SolIpv6, SoOriginalDst, address);
            if (length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(address) != 10 /* AF_INET6 */)
            {
                return null;
            }
        }
        catch (SocketException)
        {
            return null;
        }

        var port = BinaryPrimitives.ReadUInt16BigEndian(address[2..]);
        var ip = new IPAddress(address.Slice(8, 16));
        return new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, port);
    }

    private static IPEndPoint? OfIpv4(Socket socket)
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
