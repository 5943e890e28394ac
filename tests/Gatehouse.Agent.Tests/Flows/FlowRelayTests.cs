using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Agent.Flows;
using Gatehouse.Agent.State;
using Gatehouse.Testing;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Agent.Tests.Flows;

/// <summary>How a flow that goes direct (a <see cref="DirectFlowStream"/> to the destination) ends at each side.</summary>
public sealed class FlowRelayTests
{
    /// <summary>Far less than any idle timeout: a cut flow is cut at once.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_application_that_resets_mid_upload_resets_the_destination_at_once()
    {
        using var destination = new UploadApp();
        await using var relay = await DirectRelay.StartAsync(destination.Port);
        var part = "part of the upload"u8.ToArray();
        await relay.Application.SendAsync(part);
        await destination.ReadAsync(part);

        AbortiveClose.Reset(relay.Application);

        var received = await destination.Received.WaitAsync(Prompt);
        Assert.Equal(part, received.Bytes);
        Assert.Equal(SocketError.ConnectionReset, received.Cut);
        await relay.Completion.DefaultTimeout();
    }

    [Fact]
    public async Task An_application_that_half_closes_after_its_upload_gets_the_whole_answer_and_a_clean_end()
    {
        var answer = "got it\n" + new string('x', 200_000); // more than one read's worth
        using var destination = new UploadApp(answerAtEnd: Encoding.ASCII.GetBytes(answer));
        await using var relay = await DirectRelay.StartAsync(destination.Port);
        var whole = "the whole upload"u8.ToArray();

        await relay.Application.SendAsync(whole);
        relay.Application.Shutdown(SocketShutdown.Send);

        Assert.Equal(answer, await ReadToEndAsync(relay.Application));
        await destination.AssertEndedAfterAsync(whole);
        await relay.Completion.DefaultTimeout();
    }

    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer).DefaultTimeout()) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }

    /// <summary>An application's connection relayed by <see cref="FlowRelay"/> straight to a destination's port.</summary>
    private sealed class DirectRelay : IAsyncDisposable
    {
        private readonly Socket _client;
        private readonly NetworkStream _toClient;
        private readonly PipeReader _fromClient;
        private readonly Stream _destination;

        private DirectRelay(Socket application, Socket client, Stream destination)
        {
            Application = application;
            _client = client;
            _toClient = new NetworkStream(client, ownsSocket: true);
            _fromClient = PipeReader.Create(_toClient, new StreamPipeReaderOptions(leaveOpen: true));
            _destination = destination;
            var flow = new OpenedFlow(destination, 200, null, null, null, Direct: true);
            var state = new AgentState(Guid.NewGuid(), Guid.NewGuid(), "https://portal.test");
            Completion = FlowRelay.RelayAsync(client, _toClient, _fromClient, flow, state, CancellationToken.None);
        }

        /// <summary>The application's end.</summary>
        public Socket Application { get; }

        /// <summary>Completes when the relay has ended.</summary>
        public Task Completion { get; }

        public static async Task<DirectRelay> StartAsync(int destinationPort)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var application = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await application.ConnectAsync(listener.LocalEndPoint!).DefaultTimeout();
            var client = await listener.AcceptAsync().DefaultTimeout();
            var destination = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await destination.ConnectAsync(new IPEndPoint(IPAddress.Loopback, destinationPort)).DefaultTimeout();
            return new DirectRelay(application, client, new DirectFlowStream(destination));
        }

        public async ValueTask DisposeAsync()
        {
            Application.Dispose();
            await _fromClient.CompleteAsync();
            await _toClient.DisposeAsync();
            await _destination.DisposeAsync();
            _client.Dispose();
        }
    }
}
