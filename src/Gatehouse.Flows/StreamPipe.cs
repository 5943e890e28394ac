using System.IO.Pipelines;

namespace Gatehouse.Flows;

/// <summary>
/// A stream as a duplex pipe, for a relay's side that is a stream rather than a socket: the connector's end of a
/// relayed flow's TLS session, an agent's accepted extended CONNECT stream. Reads take up to 64 KiB; flushes
/// write what was written. Disposing it gives the pipes' memory back and leaves the stream open (its owner
/// closes it).
/// </summary>
public sealed class StreamPipe : IDuplexPipe, IAsyncDisposable
{
    private const int ReadSize = 64 * 1024;

    /// <summary>Wraps <paramref name="stream"/>.</summary>
    /// <param name="stream">The stream; not owned.</param>
    /// <param name="waitWithoutBuffer">
    /// Whether a read first waits for data with a zero-byte read, so that a quiet flow holds no read buffer
    /// (the stream must support zero-byte reads).
    /// </param>
    public StreamPipe(Stream stream, bool waitWithoutBuffer)
    {
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReadSize, leaveOpen: true, useZeroByteReads: waitWithoutBuffer));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }

    /// <summary>Ends this side's sending where the stream has no half-close of its own: the flow ends with it.</summary>
    public void CompleteOutput() => Output.Complete();

    /// <summary>Completes both pipes; what was written and not flushed is dropped if the stream is gone.</summary>
    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync();
        try
        {
            await Output.CompleteAsync();
        }
        catch (Exception e) when (Relay.IsEndOfFlow(e))
        {
            // The other end is gone.
        }
    }
}
