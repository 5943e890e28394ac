using System.Net;
using System.Net.Sockets;

namespace Gatehouse.Testing.Tests;

public sealed class FreePortTests
{
    [Fact]
    public void Free_loopback_port_can_be_listened_on()
    {
        var port = FreePort.GetLoopbackTcpPort();

        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        listener.Stop();
        Assert.InRange(port, 1, 65535);
    }

    [Fact]
    public void Ports_come_from_below_the_ephemeral_range_and_are_not_handed_out_twice()
    {
        var (low, high) = FreePort.PortsBelowTheEphemeralRange();
        Assert.True(high >= low, $"no room below the ephemeral range on this machine ({low}-{high})");

        var ports = Enumerable.Range(0, 200).Select(_ => FreePort.GetLoopbackTcpPort()).ToList();

        Assert.All(ports, p => Assert.InRange(p, low, high));
        Assert.Equal(ports.Count, ports.Distinct().Count());
    }

    [Fact]
    public void A_port_in_use_is_skipped()
    {
        var (taken, free) = (FreePort.GetLoopbackTcpPort(), FreePort.GetLoopbackTcpPort());
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, taken));
        listener.Listen();

        Assert.Equal(free, FreePort.FirstBindable([taken, free]));
        Assert.Null(FreePort.FirstBindable([taken]));
    }
}
