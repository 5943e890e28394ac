using System.Net;
using System.Net.Sockets;
using Gatehouse.Agent.Flows;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Agent.Tests.Flows;

public sealed class ApplicationConnectionTests
{
    [Fact]
    public void Aborting_a_session_that_has_already_ended_does_nothing()
    {
        // A listener that stops aborts the sessions it saw open; one of them may end meanwhile
        // (seen once in FailoverTests: ObjectDisposedException out of the data plane's DisposeAsync).
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        var session = new Idle(listener.Accept());

        session.Dispose();

        session.Abort();
    }

    private sealed class Idle(Socket client) : ApplicationConnection(client, NullLogger.Instance)
    {
        protected override Task ServeAsync(CancellationToken ct) => Task.CompletedTask;
    }
}
