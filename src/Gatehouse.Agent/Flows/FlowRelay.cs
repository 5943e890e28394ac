using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Gatehouse.Agent.State;
using Gatehouse.Tunnel;

namespace Gatehouse.Agent.Flows;

/// <summary>Carries an opened flow's bytes between the application and the edge (or the destination).</summary>
internal static class FlowRelay
{
    /// <summary>How long the application may go on sending after the destination has finished.</summary>
    public static readonly TimeSpan LingerAfterResponse = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Carries bytes both ways until the destination finishes; the application's end of sending is a
    /// half-close towards the destination, the destination's end a half-close towards the application.
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
        try
        {
            var upload = Task.Run(
                async () =>
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
                    await EndWritesAsync(destination, ct);
                },
                ct);

            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                while (true)
                {
                    var read = await destination.ReadAsync(buffer, ct);
                    if (read == 0)
                    {
                        break;
                    }

                    await toClient.WriteAsync(buffer.AsMemory(0, read), ct);
                    state.BytesDown(read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            // The destination has finished: tell the application, and let it finish sending for a little while.
            client.Shutdown(SocketShutdown.Send);
            await upload.WaitAsync(LingerAfterResponse, ct);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or TimeoutException or ObjectDisposedException or HttpRequestException)
        {
            // One side went away or the flow was cut; the session ends and closes both.
        }
        finally
        {
            state.FlowClosed();
        }
    }

    private static async Task EndWritesAsync(Stream stream, CancellationToken ct)
    {
        switch (stream)
        {
            case HalfCloseStream tunnel:
                tunnel.CompleteWrites();
                break;
            case RelayedStream relayed:
                await relayed.CompleteWritesAsync(ct);
                break;
            case NetworkStream direct:
                direct.Socket.Shutdown(SocketShutdown.Send);
                break;
        }
    }
}
