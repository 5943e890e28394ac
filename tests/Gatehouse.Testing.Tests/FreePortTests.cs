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
}
