using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Flows;

/// <summary>
/// One application's connection to a listener of the agent: the socket, a stream to write to it and a
/// pipe to read from it (so that bytes looked at before a flow opens are not lost), cut by the
/// listener's stop or by <see cref="Abort"/>. Sessions say what to do with it in <see cref="ServeAsync"/>.
/// </summary>
internal abstract class ApplicationConnection : IFlowSession
{
    private readonly CancellationTokenSource _abort = new();

    protected ApplicationConnection(Socket client, ILogger logger)
    {
        Client = client;
        Stream = new NetworkStream(client, ownsSocket: true);
        // Zero-byte reads wait for the application's next bytes without a buffer: a quiet connection holds none.
        In = PipeReader.Create(Stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true, useZeroByteReads: true));
        Logger = logger;
        ClientAddress = client.RemoteEndPoint?.ToString() ?? "unknown";
    }

    /// <summary>The application's socket.</summary>
    protected Socket Client { get; }

    /// <summary>Writes to the application.</summary>
    protected NetworkStream Stream { get; }

    /// <summary>Reads from the application.</summary>
    protected PipeReader In { get; }

    /// <summary>The log.</summary>
    protected ILogger Logger { get; }

    /// <summary>The application's address, for the edge's log and ours.</summary>
    protected string ClientAddress { get; }

    public void Abort()
    {
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended while the listener was stopping: nothing is left to cut.
        }
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _abort.Token);
        try
        {
            await ServeAsync(linked.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The application or the destination went away, or the agent is stopping.
        }
        catch (Exception e)
        {
            AgentLog.SessionFailed(Logger, e, ClientAddress);
        }
    }

    public void Dispose()
    {
        In.Complete();
        Stream.Dispose();
        _abort.Dispose();
    }

    /// <summary>Ends the application's connection with a TCP reset rather than a FIN: what it was sent did not end, it was cut.</summary>
    protected void Reset() => Gatehouse.Wire.Sockets.AbortiveClose.Reset(Client);

    /// <summary>Serves the connection until it is done; <paramref name="ct"/> cuts it.</summary>
    protected abstract Task ServeAsync(CancellationToken ct);
}
