using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Flows;

/// <summary>What an inspector of a flow's first client bytes wants.</summary>
public enum FirstBytesVerdict
{
    /// <summary>Wait for more bytes before deciding (nothing is sent on meanwhile).</summary>
    NeedMore,

    /// <summary>Send on and stop inspecting.</summary>
    Pass,

    /// <summary>End the flow without sending the bytes on.</summary>
    Refuse,
}

/// <summary>Bytes a relay carried each way.</summary>
/// <param name="Up">From the client to the destination.</param>
/// <param name="Down">From the destination to the client.</param>
public readonly record struct RelayBytes(long Up, long Down);

/// <summary>
/// Copies bytes both ways between a client and a destination until both directions end. The end of
/// one direction is handed on as a half-close (<c>onClientDone</c>, <c>onDestinationDone</c>); a reset
/// or the flow's cancellation (idle timeout, drain) ends both. Expected socket errors are the end of the
/// flow, not exceptions: the first one says which end broke the flow, and how, in
/// <see cref="OpenFlow.BrokenBecause"/>.
/// </summary>
public static class Relay
{
    private const int SocketReadSize = 64 * 1024;

    /// <summary>
    /// Runs the relay. The client's end of sending is carried to the destination as a half-close; a flow that was cut
    /// (<see cref="OpenFlow.WasCut"/>) resets the destination's socket, since the FIN that closing it sends would tell the
    /// destination that what it was sent had ended.
    /// </summary>
    /// <param name="client">The client side.</param>
    /// <param name="destination">
    /// The destination's socket. The relay receives into the client's pipe and sends from it, without
    /// <paramref name="destination"/>'s own pipes, so nothing may have been read through its <see cref="SocketPipe.Input"/> before.
    /// </param>
    /// <param name="flow">The flow: touched on every read, cancelled when idle or drained.</param>
    /// <param name="onDestinationDone">Called when the destination has sent everything (carry it to the client).</param>
    /// <param name="inspectFirst">
    /// Looks at the client's first bytes before any is sent on (for example to read the TLS server name);
    /// told whether the client has finished sending. The destination's bytes flow meanwhile, so
    /// server-first protocols work.
    /// </param>
    public static async Task<RelayBytes> RunAsync(IDuplexPipe client, SocketPipe destination, OpenFlow flow, Action onDestinationDone, Func<ReadOnlySequence<byte>, bool, FirstBytesVerdict>? inspectFirst = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return await RunAsync(client, new SocketSink(destination.Socket), new SocketSource(destination.Socket), flow, destination.ShutdownSend, onDestinationDone, destination.Reset, inspectFirst);
    }

    /// <summary>
    /// Runs the relay with a destination stream (such as a connector's HTTP/2 stream): read straight into the
    /// client's pipe and written from it, without pipes of its own.
    /// </summary>
    /// <param name="client">The client side.</param>
    /// <param name="destination">The destination: reads give its bytes, writes and flushes send to it.</param>
    /// <param name="flow">The flow: touched on every read, cancelled when idle or drained.</param>
    /// <param name="onClientDone">Called when the client has sent everything (carry the half-close to the destination).</param>
    /// <param name="onDestinationDone">Called when the destination has sent everything (carry it to the client).</param>
    /// <param name="onCut">
    /// Called once the relay has ended if the flow was cut (<see cref="OpenFlow.WasCut"/>): reset the destination (for an
    /// HTTP/2 stream, RST_STREAM rather than the END_STREAM that disposing sends).
    /// </param>
    public static async Task<RelayBytes> RunAsync(IDuplexPipe client, Stream destination, OpenFlow flow, Action onClientDone, Action onDestinationDone, Action onCut)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return await RunAsync(client, new StreamSink(destination), new StreamSource(destination), flow, onClientDone, onDestinationDone, onCut, inspectFirst: null);
    }

    private static async Task<RelayBytes> RunAsync(IDuplexPipe client, Sink toDestination, Source fromDestination, OpenFlow flow, Action onClientDone, Action onDestinationDone, Action onCut, Func<ReadOnlySequence<byte>, bool, FirstBytesVerdict>? inspectFirst)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(flow);
        var ends = new Ends();
        var up = SendAsync(client.Input, toDestination, flow, ends, onClientDone, inspectFirst);
        var down = ReceiveAsync(fromDestination, client.Output, flow, ends, onDestinationDone);
        await Task.WhenAll(up, down);
        if (flow.WasCut)
        {
            onCut();
        }

        return new RelayBytes(flow.BytesUp, flow.BytesDown);
    }

    /// <summary>Sends what the client writes to the destination, from the client pipe's own memory.</summary>
    private static async Task SendAsync(PipeReader from, Sink to, OpenFlow flow, Ends ends, Action onDone, Func<ReadOnlySequence<byte>, bool, FirstBytesVerdict>? inspect)
    {
        var ct = flow.Cancellation;
        var clean = false;
        string? broken = null;
        var waitingOn = End.Client;
        try
        {
            while (true)
            {
                waitingOn = End.Client;
                var read = await from.ReadAsync(ct);
                var buffer = read.Buffer;
                if (inspect is not null)
                {
                    var verdict = inspect(buffer, read.IsCompleted);
                    if (verdict == FirstBytesVerdict.Refuse)
                    {
                        from.AdvanceTo(buffer.Start);
                        break;
                    }

                    if (verdict == FirstBytesVerdict.NeedMore && !read.IsCompleted)
                    {
                        from.AdvanceTo(buffer.Start, buffer.End);
                        continue;
                    }

                    inspect = null;
                }

                var receiverGone = false;
                if (!buffer.IsEmpty)
                {
                    flow.Touch();
                    flow.Count(up: true, buffer.Length);
                    waitingOn = End.Destination;
                    receiverGone = !await to.SendAsync(buffer, ct);
                    waitingOn = End.Client;
                }

                from.AdvanceTo(buffer.End);
                if (receiverGone)
                {
                    break;
                }

                if (read.IsCompleted || read.IsCanceled)
                {
                    clean = read.IsCompleted;
                    break;
                }
            }
        }
        catch (Exception e) when (IsEndOfFlow(e))
        {
            // A client that ends with a reset once the destination has said all it had is closing, not breaking the
            // flow: no reason is recorded. The flow is still cut, so the destination is reset too: it may be reading
            // on, and a FIN would tell it that an upload the client never ended had ended. It loses nothing by it,
            // having sent all it had, and a direct connection would have carried it the client's reset.
            broken = waitingOn == End.Client && ends.DestinationFinished ? null : HowBroken(e, waitingOn, ct.IsCancellationRequested);
        }

        Finish(flow, onDone, clean, broken);
    }

    /// <summary>
    /// Reads from <paramref name="from"/> into <paramref name="to"/>'s own memory. It waits for data with a
    /// zero-byte read before taking memory, so a quiet flow holds none, but not after a read that filled
    /// the memory it had: more is likely waiting, and the wait would cost a system call per read.
    /// </summary>
    private static async Task ReceiveAsync(Source from, PipeWriter to, OpenFlow flow, Ends ends, Action onDone)
    {
        var ct = flow.Cancellation;
        var clean = false;
        string? broken = null;
        var waitingOn = End.Destination;
        var mayHaveMore = false;
        try
        {
            while (true)
            {
                waitingOn = End.Destination;
                if (!mayHaveMore)
                {
                    await from.ReadAsync(Memory<byte>.Empty, ct);
                }

                waitingOn = End.Client;
                var memory = to.GetMemory(SocketReadSize);
                waitingOn = End.Destination;
                var received = await from.ReadAsync(memory, ct);
                if (received == 0)
                {
                    clean = true;
                    ends.DestinationFinished = true;
                    break;
                }

                mayHaveMore = received == memory.Length;
                to.Advance(received);
                flow.Touch();
                flow.Count(up: false, received);
                waitingOn = End.Client;
                var flush = await to.FlushAsync(ct);
                if (flush.IsCompleted)
                {
                    broken = ClientWentAway;
                    break;
                }

                if (flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (IsEndOfFlow(e))
        {
            broken = HowBroken(e, waitingOn, ct.IsCancellationRequested);
        }

        Finish(flow, onDone, clean, broken);
    }

    private static void Finish(OpenFlow flow, Action onDone, bool clean, string? broken)
    {
        if (clean)
        {
            onDone();
        }
        else if (broken is not null)
        {
            // A reset or a failure on one side ends the whole flow.
            flow.Break(broken);
        }
        else
        {
            flow.Abort();
        }
    }

    private const string ClientWentAway = "the client went away";

    /// <summary>
    /// How the end the relay was <paramref name="waitingOn"/> broke the flow with <paramref name="e"/>. Once the flow is
    /// <paramref name="cancelled"/>, what failed is the cancellation's doing: when nothing had cut the flow, it is its
    /// client's end going (<see cref="FlowRegistry.Open"/>); when something had, that says why, and this is not used.
    /// </summary>
    private static string HowBroken(Exception e, End waitingOn, bool cancelled) =>
        (cancelled, waitingOn, IsReset(e)) switch
        {
            (true, _, _) => ClientWentAway,
            (_, End.Destination, _) => BrokenBy(e, "destination"),
            (_, _, true) => BrokenBy(e, "client"),
            _ => ClientWentAway,
        };

    /// <summary>
    /// How the connection to <paramref name="end"/> broke a flow with <paramref name="e"/>, for its record: "the
    /// destination reset the connection", or "the connection to the destination broke".
    /// </summary>
    /// <param name="e">What the relay's read or write of that end threw.</param>
    /// <param name="end">That end, as records name it (<c>destination</c>, <c>connector</c>).</param>
    public static string BrokenBy(Exception e, string end) =>
        IsReset(e) ? $"the {end} reset the connection" : $"the connection to the {end} broke";

    /// <summary>Whether <paramref name="e"/> is a connection reset (a TCP RST), not another failure.</summary>
    private static bool IsReset(Exception e) => e switch
    {
        ConnectionResetException => true,
        SocketException { SocketErrorCode: SocketError.ConnectionReset } => true,
        IOException { InnerException: { } inner } => IsReset(inner),
        _ => false,
    };

    /// <summary>Whether <paramref name="e"/> is how a socket or stream ends rather than a bug.</summary>
    public static bool IsEndOfFlow(Exception e) =>
        e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException;

    /// <summary>The end of a flow the relay is waiting on.</summary>
    private enum End
    {
        Client,
        Destination,
    }

    /// <summary>What one direction of a relay tells the other about how its end finished.</summary>
    private sealed class Ends
    {
        /// <summary>Set once the destination has finished sending, before its half-close is handed on.</summary>
        public volatile bool DestinationFinished;
    }

    /// <summary>Where <see cref="SendAsync"/> puts what the client wrote.</summary>
    private abstract class Sink
    {
        /// <summary>Sends <paramref name="buffer"/> on; false when the receiver is gone.</summary>
        public abstract ValueTask<bool> SendAsync(ReadOnlySequence<byte> buffer, CancellationToken ct);
    }

    /// <summary>Sends from the reader's own memory, all its segments in one call.</summary>
    private sealed class SocketSink(Socket to) : Sink
    {
        private readonly List<ArraySegment<byte>> _segments = [];

        public override async ValueTask<bool> SendAsync(ReadOnlySequence<byte> buffer, CancellationToken ct)
        {
            if (buffer.IsSingleSegment)
            {
                await to.SendAsync(buffer.First, SocketFlags.None, ct);
                return true;
            }

            _segments.Clear();
            foreach (var memory in buffer)
            {
                if (!MemoryMarshal.TryGetArray(memory, out var array))
                {
                    // Memory that is not an array's cannot go in one gathered send: one send per segment.
                    foreach (var each in buffer)
                    {
                        await to.SendAsync(each, SocketFlags.None, ct);
                    }

                    return true;
                }

                _segments.Add(array);
            }

            // The gathered send takes no token: the flow's end closes the socket under it instead.
            await using var onCancel = ct.UnsafeRegister(static state => ((Socket)state!).Dispose(), to);
            await to.SendAsync(_segments, SocketFlags.None);
            return true;
        }
    }

    /// <summary>Sends with the stream's writes, then flushes it.</summary>
    private sealed class StreamSink(Stream to) : Sink
    {
        public override async ValueTask<bool> SendAsync(ReadOnlySequence<byte> buffer, CancellationToken ct)
        {
            foreach (var segment in buffer)
            {
                await to.WriteAsync(segment, ct);
            }

            await to.FlushAsync(ct);
            return true;
        }
    }

    /// <summary>Where <see cref="ReceiveAsync"/> reads from; a read of no bytes waits for data.</summary>
    private abstract class Source
    {
        /// <summary>Reads into <paramref name="memory"/>; 0 at the end (or when <paramref name="memory"/> is empty, once data waits).</summary>
        public abstract ValueTask<int> ReadAsync(Memory<byte> memory, CancellationToken ct);
    }

    private sealed class SocketSource(Socket from) : Source
    {
        public override ValueTask<int> ReadAsync(Memory<byte> memory, CancellationToken ct) => from.ReceiveAsync(memory, SocketFlags.None, ct);
    }

    private sealed class StreamSource(Stream from) : Source
    {
        public override ValueTask<int> ReadAsync(Memory<byte> memory, CancellationToken ct) => from.ReadAsync(memory, ct);
    }
}
