using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
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
/// flow, not exceptions.
/// </summary>
public static class Relay
{
    /// <summary>Runs the relay.</summary>
    /// <param name="client">The client side.</param>
    /// <param name="destination">The destination side.</param>
    /// <param name="flow">The flow: touched on every read, cancelled when idle or drained.</param>
    /// <param name="onClientDone">Called when the client has sent everything (carry the half-close to the destination).</param>
    /// <param name="onDestinationDone">Called when the destination has sent everything (carry it to the client).</param>
    /// <param name="inspectFirst">
    /// Looks at the client's first bytes before any is sent on (for example to read the TLS server name);
    /// told whether the client has finished sending. The destination's bytes flow meanwhile, so
    /// server-first protocols work.
    /// </param>
    public static async Task<RelayBytes> RunAsync(IDuplexPipe client, IDuplexPipe destination, OpenFlow flow, Action onClientDone, Action onDestinationDone, Func<ReadOnlySequence<byte>, bool, FirstBytesVerdict>? inspectFirst = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(flow);
        var up = PumpAsync(client.Input, destination.Output, flow, onClientDone, isUp: true, inspectFirst);
        var down = PumpAsync(destination.Input, client.Output, flow, onDestinationDone, isUp: false);
        await Task.WhenAll(up, down);
        return new RelayBytes(flow.BytesUp, flow.BytesDown);
    }

    private static async Task PumpAsync(PipeReader from, PipeWriter to, OpenFlow flow, Action onDone, bool isUp, Func<ReadOnlySequence<byte>, bool, FirstBytesVerdict>? inspect = null)
    {
        var ct = flow.Cancellation;
        var clean = false;
        try
        {
            while (true)
            {
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

                if (!buffer.IsEmpty)
                {
                    flow.Touch();
                    foreach (var segment in buffer)
                    {
                        to.Write(segment.Span);
                    }

                    flow.Count(isUp, buffer.Length);
                    var flush = await to.FlushAsync(ct);
                    from.AdvanceTo(buffer.End);
                    if (flush.IsCompleted || flush.IsCanceled)
                    {
                        break;
                    }
                }
                else
                {
                    from.AdvanceTo(buffer.End);
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
            clean = false;
        }

        if (clean)
        {
            onDone();
        }
        else
        {
            // A reset or a cancellation on one side ends the whole flow.
            flow.Abort();
        }
    }

    /// <summary>Whether <paramref name="e"/> is how a socket or stream ends rather than a bug.</summary>
    public static bool IsEndOfFlow(Exception e) =>
        e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException;
}
