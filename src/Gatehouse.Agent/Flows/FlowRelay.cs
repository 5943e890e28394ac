using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Gatehouse.Agent.State;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Agent.Flows;

/// <summary>Carries an opened flow's bytes between the application and the edge (or the destination).</summary>
internal static class FlowRelay
{
    /// <summary>How long the application may go on sending after the destination has finished.</summary>
    public static readonly TimeSpan LingerAfterResponse = TimeSpan.FromSeconds(5);

    private const int ReadSize = 64 * 1024;

    /// <summary>
    /// Carries bytes both ways until the destination finishes; the application's end of sending is a
    /// half-close towards the destination, the destination's end a half-close towards the application.
    /// A destination's side that ends in an error (a reset, an edge that cut the stream, a cut flow) resets the
    /// application's socket instead: a FIN would tell the application the data ended, and a download whose end
    /// is the connection's (HTTP/1.0, a tar stream) would look complete. An application's side that ends in an
    /// error (it reset its connection, or the flow was cut) resets the destination's side the same way, at once:
    /// the destination is not left waiting for the rest of an upload that will not come.
    /// </summary>
    /// <param name="client">The application's socket.</param>
    /// <param name="toClient">Writes to the application.</param>
    /// <param name="fromClient">Reads from the application, including what was read ahead.</param>
    /// <param name="flow">The opened flow.</param>
    /// <param name="state">Counts the flow and its bytes.</param>
    /// <param name="ct">Cuts the flow.</param>
    public static async Task RelayAsync(Socket client, Stream toClient, PipeReader fromClient, OpenedFlow flow, AgentState state, CancellationToken ct)
    {
        var destination = flow.Stream ?? throw new ArgumentException("The flow was not opened.", nameof(flow));
        state.FlowOpened();
        var downEnded = false;
        try
        {
            var upload = Task.Run(() => CopyUpAsync(fromClient, destination, state, ct), ct);
            await CopyDownAsync(destination, toClient, state, ct);
            downEnded = true;

            // The destination has finished: tell the application, and let it finish sending for a little while.
            client.Shutdown(SocketShutdown.Send);
            await upload.WaitAsync(LingerAfterResponse, ct);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or TimeoutException or ObjectDisposedException or HttpRequestException)
        {
            // One side went away or the flow was cut; the session ends and closes both.
            if (!downEnded)
            {
                AbortiveClose.Reset(client); // cut, not ended: see ApplicationConnection.Reset
            }
        }
        finally
        {
            state.FlowClosed();
        }
    }

    /// <summary>
    /// Copies the application's bytes to the destination, and then the end of them as a half-close. An upload that
    /// fails resets the destination's side: the flow is cut, and the download's next read fails too.
    /// </summary>
    private static async Task CopyUpAsync(PipeReader fromClient, Stream destination, AgentState state, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var read = await fromClient.ReadAsync(ct);
                foreach (var segment in read.Buffer)
                {
                    await destination.WriteAsync(segment, ct);
                    state.BytesUp(segment.Length);
                }

                fromClient.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }

                await destination.FlushAsync(ct);
            }

            await destination.FlushAsync(ct);
            if (destination is IFlowStream flowStream)
            {
                await flowStream.CompleteWritesAsync(ct);
            }
        }
        catch
        {
            (destination as IFlowStream)?.Reset();
            throw;
        }
    }

    /// <summary>
    /// Copies the destination's bytes to the application until the destination ends. A buffer is held only while
    /// bytes flow: a read that did not fill it is followed by a zero-byte read, which waits for data without one,
    /// so a quiet flow holds no memory here.
    /// </summary>
    private static async Task CopyDownAsync(Stream destination, Stream toClient, AgentState state, CancellationToken ct)
    {
        var mayHaveMore = false;
        while (true)
        {
            if (!mayHaveMore)
            {
                // Returns 0 once data waits (or at the end, which the next read sees too).
                _ = await destination.ReadAsync(Memory<byte>.Empty, ct);
            }

            var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
            try
            {
                var read = await destination.ReadAsync(buffer.AsMemory(0, ReadSize), ct);
                if (read == 0)
                {
                    return;
                }

                mayHaveMore = read == ReadSize;
                await toClient.WriteAsync(buffer.AsMemory(0, read), ct);
                state.BytesDown(read);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
