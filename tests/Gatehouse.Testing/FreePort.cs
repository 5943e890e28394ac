using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Testing;

/// <summary>Probes free TCP ports, so that tests never hard-code one.</summary>
public static class FreePort
{
    /// <summary>The lowest port handed out: above the well-known services a test machine may run.</summary>
    public const int Lowest = 20000;

    private static readonly (int Low, int High) Range = PortsBelowTheEphemeralRange();

    // Each call takes the next port from a random start, so that one process never hands out a port twice
    // (a port probed free but not yet listened on would probe free again) and two processes rarely meet.
    private static int _next = Random.Shared.Next(Math.Max(1, Range.High - Range.Low + 1));

    /// <summary>
    /// Returns a TCP port on 127.0.0.1 that was free a moment ago. It is taken below the kernel's ephemeral
    /// range (<c>net.ipv4.ip_local_port_range</c>), where no outgoing connection's source port lands: a port
    /// the kernel picked for a socket bound to port 0 was often taken, before the test listened on it, by a
    /// connection another test made (<c>address already in use</c>). When the ephemeral range leaves no room
    /// below it, the kernel picks.
    /// </summary>
    /// <remarks>
    /// Another process may still take the port between this call and its use; servers that can
    /// listen on port 0 themselves should do that instead.
    /// </remarks>
    public static int GetLoopbackTcpPort()
    {
        var (low, high) = Range;
        var size = high - low + 1;
        if (size > 0 && FirstBindable(Enumerable.Range(0, 256).Select(_ => low + ((Interlocked.Increment(ref _next) & int.MaxValue) % size))) is { } port)
        {
            return port;
        }

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>The ports this hands out: from <see cref="Lowest"/> to just below the ephemeral range, or none (High &lt; Low).</summary>
    public static (int Low, int High) PortsBelowTheEphemeralRange()
    {
        var ephemeralLow = 32768;
        try
        {
            var fields = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(fields[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or not readable: the usual default.
        }

        return (Lowest, ephemeralLow - 1);
    }

    /// <summary>The first of <paramref name="candidates"/> that a socket can bind on 127.0.0.1 now, or null.</summary>
    public static int? FirstBindable(IEnumerable<int> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        foreach (var port in candidates)
        {
            if (TryBind(port))
            {
                return port;
            }
        }

        return null;
    }

    private static bool TryBind(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
