using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Gatehouse.Flows;
using Gatehouse.Testing;
using Microsoft.AspNetCore.Connections;

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
        await using var run = await RelayRun.StartAsync(kind);
        var up = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var down = RandomNumberGenerator.GetBytes(5 * 1024 * 1024 + 5);

        // The client writes in small unflushed pieces, so the relay sees buffers of many segments.
        var clientWrites = WriteInPiecesAsync(run.Client.ToRelay.Writer, up, piece: 1000, flushEvery: 37);
        var clientReads = ReadAllAsync(run.Client.FromRelay.Reader);
        var far = new NetworkStream(run.Far, ownsSocket: false);
        var farReads = ReadAllAsync(far);
        var farWrites = Task.Run(async () =>
        {
            await far.WriteAsync(down);
            run.Far.Shutdown(SocketShutdown.Send);
        });
        await clientWrites.DefaultTimeout();
        await farWrites.DefaultTimeout();

        Assert.Equal(up, await farReads.DefaultTimeout());
        Assert.Equal(down, await clientReads.DefaultTimeout());
        var bytes = await run.Relay.DefaultTimeout();
        Assert.Equal(new RelayBytes(up.Length, down.Length), bytes);
        Assert.False(run.Flow.Cancellation.IsCancellationRequested);
    }

    [Fact]
    public async Task A_destination_quiet_for_a_while_is_still_relayed_when_it_speaks()
    {
        await using var run = await RelayRun.StartAsync(Destination.Socket);

        await Task.Delay(300);
        await run.Far.SendAsync("late"u8.ToArray());
        var read = await run.Client.FromRelay.Reader.ReadAsync().AsTask().DefaultTimeout();
        Assert.Equal("late"u8.ToArray(), read.Buffer.ToArray());
        run.Client.FromRelay.Reader.AdvanceTo(read.Buffer.End);

        run.Far.Shutdown(SocketShutdown.Both);
        await run.Client.ToRelay.Writer.CompleteAsync();
        await run.Relay.DefaultTimeout();
    }

    [Fact]
    public async Task Aborting_the_flow_ends_a_relay_whose_destination_stopped_reading()
    {
        await using var run = await RelayRun.StartAsync(Destination.Socket, socketBuffers: 4096);

        // Far never reads: the relay's sends block once the socket buffers are full, many segments at a time.
        _ = WriteInPiecesAsync(run.Client.ToRelay.Writer, new byte[64 * 1024 * 1024], piece: 4096, flushEvery: 16);
        await Task.Delay(500);
        Assert.False(run.Relay.IsCompleted);

        run.Flow.Abort("the test ended it");
        await run.Relay.DefaultTimeout();
        await run.Client.ToRelay.Reader.CompleteAsync();
        Assert.Equal(("the test ended it", null), (run.Flow.EndedBecause, run.Flow.BrokenBecause));
    }

    [Fact]
    public async Task A_reset_destination_ends_the_flow_and_says_so()
    {
        await using var run = await RelayRun.StartAsync(Destination.Socket);

        run.Far.LingerState = new LingerOption(true, 0);
        run.Far.Close();

        await run.Relay.DefaultTimeout();
        Assert.True(run.Flow.Cancellation.IsCancellationRequested);
        Assert.Equal(("the destination reset the connection", null), (run.Flow.BrokenBecause, run.Flow.EndedBecause));
    }

    [Fact]
    public async Task A_client_that_resets_while_the_destination_may_still_send_breaks_the_flow()
    {
        await using var run = await RelayRun.StartAsync(Destination.Socket);

        await run.Client.ToRelay.Writer.CompleteAsync(new ConnectionResetException("reset by the client"));

        await run.Relay.DefaultTimeout();
        Assert.Equal("the client reset the connection", run.Flow.BrokenBecause);
    }

    [Fact]
    public async Task A_client_that_resets_after_the_destination_said_all_it_had_is_closing_not_breaking_the_flow()
    {
        await using var run = await RelayRun.StartAsync(Destination.Socket);
        run.Far.Shutdown(SocketShutdown.Send);
        var end = await run.Client.FromRelay.Reader.ReadAsync().AsTask().DefaultTimeout();
        Assert.True(end.IsCompleted);

        await run.Client.ToRelay.Writer.CompleteAsync(new ConnectionResetException("reset by the client"));

        await run.Relay.DefaultTimeout();
        Assert.Null(run.Flow.BrokenBecause);
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

    /// <summary>
    /// A relay running between <see cref="Client"/>'s pipes and one end of a loopback connection, whose other
    /// end, <see cref="Far"/>, plays the destination.
    /// </summary>
    private sealed class RelayRun : IAsyncDisposable
    {
        private readonly FlowRegistry _registry;
        private readonly SocketPipe _destination;
        private readonly NetworkStream _destinationStream;

        private RelayRun(FlowRegistry registry, Socket relayed, Socket far, Destination kind)
        {
            _registry = registry;
            Far = far;
            Flow = registry.Open();
            _destination = new SocketPipe(relayed);
            _destinationStream = new NetworkStream(relayed, ownsSocket: false);
            Relay = kind == Destination.Socket
                ? Gatehouse.Flows.Relay.RunAsync(Client.Pipe, _destination, Flow, () => Client.FromRelay.Writer.Complete())
                : Gatehouse.Flows.Relay.RunAsync(Client.Pipe, _destinationStream, Flow, _destination.ShutdownSend, () => Client.FromRelay.Writer.Complete(), _destination.Reset);
        }

        public ClientPipes Client { get; } = new();

        public Socket Far { get; }

        public OpenFlow Flow { get; }

        public Task<RelayBytes> Relay { get; }

        /// <param name="kind">How the relay is given its end of the connection.</param>
        /// <param name="socketBuffers">Kernel buffer sizes of the connection, to make sends block early.</param>
        public static async Task<RelayRun> StartAsync(Destination kind, int? socketBuffers = null)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var relayed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            if (socketBuffers is { } size)
            {
                listener.ReceiveBufferSize = size;
                relayed.SendBufferSize = size;
            }

            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen();
            var accepted = listener.AcceptAsync();
            await relayed.ConnectAsync(listener.LocalEndPoint!);
            return new RelayRun(new FlowRegistry(TimeSpan.FromMinutes(1)), relayed, await accepted, kind);
        }

        public async ValueTask DisposeAsync()
        {
            Far.Dispose();
            await _destinationStream.DisposeAsync();
            await _destination.DisposeAsync();
            Flow.Dispose();
            await _registry.DisposeAsync();
        }
    }
}
