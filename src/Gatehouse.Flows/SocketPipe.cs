using System.IO.Pipelines;
using System.Net.Sockets;
using Gatehouse.Wire.Sockets;

namespace Gatehouse.Flows;

/// <summary>
/// A connected socket as a duplex pipe. Reads wait for data before taking a buffer, so an idle flow holds
/// no buffer; <see cref="ShutdownSend"/> carries a half-close to the peer.
/// </summary>
public sealed class SocketPipe : IDuplexPipe, IAsyncDisposable
{
    private const int ReadSize = 64 * 1024;
    private readonly NetworkStream _stream;

    /// <summary>Wraps <paramref name="socket"/>; the pipe owns it.</summary>
    /// <param name="socket">A connected socket.</param>
    public SocketPipe(Socket socket)
    {
        Socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: ReadSize, minimumReadSize: 4096, leaveOpen: true, useZeroByteReads: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 4096, leaveOpen: true));
    }

    /// <summary>The socket.</summary>
    public Socket Socket { get; }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }

    /// <summary>Tells the peer nothing more will be sent (TCP FIN); reading goes on.</summary>
    public void ShutdownSend()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing to tell it.
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile.
        }
    }

    /// <summary>
    /// Closes the socket with a TCP reset (<see cref="AbortiveClose.Reset"/>): the peer sees that what it was sent was
    /// cut, not ended. Disposing afterwards is still needed, and quiet.
    /// </summary>
    public void Reset() => AbortiveClose.Reset(Socket);

    /// <summary>Closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync();
        await Output.CompleteAsync();
        await _stream.DisposeAsync();
    }
}
