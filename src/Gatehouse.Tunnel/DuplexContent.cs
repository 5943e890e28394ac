using System.Net;

namespace Gatehouse.Tunnel;

/// <summary>
/// A request body written while the response is read (HTTP/2 is full duplex): the flow writes straight
/// into the request stream as it comes, and <see cref="Complete"/> ends the body (END_STREAM), which is
/// the tunnel's half-close; <see cref="Abort"/> fails it, which resets the stream.
/// </summary>
public sealed class DuplexContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var stream = await _stream.Task.WaitAsync(ct);
        await stream.WriteAsync(data, ct);

        // HTTP/2 request bodies are buffered until flushed: each write is flushed so the flow is interactive.
        await stream.FlushAsync(ct);
    }

    internal async Task FlushAsync(CancellationToken ct)
    {
        var stream = await _stream.Task.WaitAsync(ct);
        await stream.FlushAsync(ct);
    }

    internal void Complete() => _done.TrySetResult();

    /// <summary>Fails the body rather than ending it: HttpClient then resets the stream (RST_STREAM) instead of sending END_STREAM.</summary>
    internal void Abort() => _done.TrySetException(new IOException("The flow was cut."));

    /// <inheritdoc />
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    /// <inheritdoc />
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // HttpClient holds back the HEADERS of a request with a body until the body's first flush. A flow's
        // first bytes may wait for the edge's 200, so the headers must go now: without this flush, a flow
        // opened on an idle connection waited for the next keep-alive PING (30 s) to reach the edge.
        await stream.FlushAsync(cancellationToken);
        _stream.TrySetResult(stream);
        await _done.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
