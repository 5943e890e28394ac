using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.Flows;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Flows;

/// <summary>
/// The relay between a client pipe and a destination socket (<see cref="SocketPipe"/>) or stream, which it
/// reads into the client's pipe and writes from it directly.
/// </summary>
public sealed class RelayTests
{
    /// <summary>How the relay is given its destination.</summary>
    public enum Destination
    {
        /// <summary>A <see cref="SocketPipe"/>, used through its socket.</summary>
        Socket,

        /// <summary>A stream, as a connector's HTTP/2 stream is.</summary>
        Stream,
    }

    [Theory]
    [InlineData(Destination.Socket)]
    [InlineData(Destination.Stream)]
    public async Task Bytes_cross_both_ways_at_once_and_each_half_close_reaches_the_other_side(Destination kind)
    {
        await using var sockets = await SocketPair.OpenAsync();
        await using var registry = new FlowRegistry(TimeSpan.FromMinutes(1));
        using var flow = registry.Open();
        var client = new ClientPipes();
        await using var destination = new SocketPipe(sockets.Relayed);
        await using var destinationStream = new NetworkStream(sockets.Relayed, ownsSocket: false);
        var up = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var down = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 5);

        var relay = kind == Destination.Socket
            ? Relay.RunAsync(client.Pipe, destination, flow, destination.ShutdownSend, () => client.FromRelay.Writer.Complete())
            : Relay.RunAsync(client.Pipe, destinationStream, flow, destination.ShutdownSend, () => client.FromRelay.Writer.Complete());

        // The client writes in small unflushed pieces, so the relay sees buffers of many segments.
        var clientWrites = WriteInPiecesAsync(client.ToRelay.Writer, up, piece: 1000, flushEvery: 37);
        var clientReads = ReadAllAsync(client.FromRelay.Reader);
        var far = new NetworkStream(sockets.Far, ownsSocket: false);
        var farReads = ReadAllAsync(far);
        var farWrites = Task.Run(async () =>
        {
            await far.WriteAsync(down);
            sockets.Far.Shutdown(SocketShutdown.Send);
        });
        await clientWrites.DefaultTimeout();
        await farWrites.DefaultTimeout();

        Assert.Equal(up, await farReads.DefaultTimeout());
        Assert.Equal(down, await clientReads.DefaultTimeout());
        var bytes = await relay.DefaultTimeout();
        Assert.Equal(new RelayBytes(up.Length, down.Length), bytes);
        Assert.False(flow.Cancellation.IsCancellationRequested);
    }

    [Fact]
    public async Task A_destination_quiet_for_a_while_is_still_relayed_when_it_speaks()
    {
        await using var sockets = await SocketPair.OpenAsync();
        await using var registry = new FlowRegistry(TimeSpan.FromMinutes(1));
        using var flow = registry.Open();
        var client = new ClientPipes();
        await using var destination = new SocketPipe(sockets.Relayed);
        var relay = Relay.RunAsync(client.Pipe, destination, flow, destination.ShutdownSend, () => client.FromRelay.Writer.Complete());

        await Task.Delay(300);
        await sockets.Far.SendAsync("late"u8.ToArray());
        var read = await client.FromRelay.Reader.ReadAsync().AsTask().DefaultTimeout();
        Assert.Equal("late"u8.ToArray(), read.Buffer.ToArray());
        client.FromRelay.Reader.AdvanceTo(read.Buffer.End);

        sockets.Far.Shutdown(SocketShutdown.Both);
        await client.ToRelay.Writer.CompleteAsync();
        await relay.DefaultTimeout();
    }

    [Fact]
    public async Task Aborting_the_flow_ends_a_relay_whose_destination_stopped_reading()
    {
        await using var sockets = await SocketPair.OpenAsync(receiveBuffer: 4096);
        await using var registry = new FlowRegistry(TimeSpan.FromMinutes(1));
        using var flow = registry.Open();
        var client = new ClientPipes();
        await using var destination = new SocketPipe(sockets.Relayed);
        sockets.Relayed.SendBufferSize = 4096;
        var relay = Relay.RunAsync(client.Pipe, destination, flow, destination.ShutdownSend, () => client.FromRelay.Writer.Complete());

        // Far never reads: the relay's sends block once the socket buffers are full, many segments at a time.
        _ = WriteInPiecesAsync(client.ToRelay.Writer, new byte[64 * 1024 * 1024], piece: 4096, flushEvery: 16);
        await Task.Delay(500);
        Assert.False(relay.IsCompleted);

        flow.Abort();
        await relay.DefaultTimeout();
        await client.ToRelay.Reader.CompleteAsync();
    }

    [Fact]
    public async Task A_reset_destination_ends_the_flow()
    {
        await using var sockets = await SocketPair.OpenAsync();
        await using var registry = new FlowRegistry(TimeSpan.FromMinutes(1));
        using var flow = registry.Open();
        var client = new ClientPipes();
        await using var destination = new SocketPipe(sockets.Relayed);
        var relay = Relay.RunAsync(client.Pipe, destination, flow, destination.ShutdownSend, () => client.FromRelay.Writer.Complete());

        sockets.Far.LingerState = new LingerOption(true, 0);
        sockets.Far.Close();

        await relay.DefaultTimeout();
        Assert.True(flow.Cancellation.IsCancellationRequested);
    }

    private static async Task WriteInPiecesAsync(PipeWriter writer, byte[] bytes, int piece, int flushEvery)
    {
        try
        {
            for (int offset = 0, pieces = 0; offset < bytes.Length; offset += piece, pieces++)
            {
                writer.Write(bytes.AsSpan(offset, Math.Min(piece, bytes.Length - offset)));
                if (pieces % flushEvery == 0 && (await writer.FlushAsync()).IsCompleted)
                {
                    return;
                }
            }

            await writer.CompleteAsync();
        }
        catch (InvalidOperationException)
        {
            // The relay completed its reader: the flow is over.
        }
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        var all = new MemoryStream();
        while (true)
        {
            var read = await reader.ReadAsync();
            foreach (var segment in read.Buffer)
            {
                all.Write(segment.Span);
            }

            reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return all.ToArray();
            }
        }
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        var all = new MemoryStream();
        await stream.CopyToAsync(all);
        return all.ToArray();
    }

    /// <summary>The client side of a relay: the test writes into <see cref="ToRelay"/> and reads from <see cref="FromRelay"/>.</summary>
    private sealed class ClientPipes
    {
        // Small segments, as Kestrel's 4 KiB blocks give: buffers of many segments reach the socket.
        private static readonly PipeOptions Options = new(minimumSegmentSize: 4096, pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024);

        public Pipe ToRelay { get; } = new(Options);

        public Pipe FromRelay { get; } = new(Options);

        public IDuplexPipe Pipe => new Duplex(ToRelay.Reader, FromRelay.Writer);

        private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;
    }

    /// <summary>A connected loopback pair: <see cref="Relayed"/> goes to the relay, <see cref="Far"/> plays the destination.</summary>
    private sealed class SocketPair : IAsyncDisposable
    {
        private SocketPair(Socket relayed, Socket far)
        {
            Relayed = relayed;
            Far = far;
        }

        public Socket Relayed { get; }

        public Socket Far { get; }

        public static async Task<SocketPair> OpenAsync(int? receiveBuffer = null)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (receiveBuffer is { } size)
            {
                listener.ReceiveBufferSize = size;
            }

            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            var relayed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var accepted = listener.AcceptAsync();
            await relayed.ConnectAsync(listener.LocalEndPoint!);
            return new SocketPair(relayed, await accepted);
        }

        public ValueTask DisposeAsync()
        {
            Far.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
