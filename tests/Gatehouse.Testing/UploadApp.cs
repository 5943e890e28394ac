using System.Net.Sockets;

namespace Gatehouse.Testing;

/// <summary>How an upload reached the app: what came, and whether it ended (a FIN) or was cut (a reset).</summary>
/// <param name="Bytes">The bytes the app read.</param>
/// <param name="Cut">The error its read ended with; null when it read a clean end.</param>
public sealed record ReceivedUpload(byte[] Bytes, SocketError? Cut);

/// <summary>
/// An app (a flow's destination, a private app) that takes one upload: it reads its connection until it ends, and
/// tells how it ended, since a server takes a clean end for the whole upload. It can first answer the upload's first
/// bytes and end its own sending, as a server that has said everything and waits for the client to close; answer only
/// once the upload has ended, as a server that reads a whole request first; or read nothing until told, as a server that
/// stopped reading. A connection that ends before its first byte is a
/// connector's health check, not the upload.
/// </summary>
public sealed class UploadApp : IDisposable
{
    private readonly TaskCompletionSource<ReceivedUpload> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LoopbackTcpServer _server;
    private int _count;

    /// <param name="answer">What it sends, then ends its sending, once the first bytes came; null to send nothing.</param>
    /// <param name="readAfter">What it waits for before it reads; null to read at once.</param>
    /// <param name="answerAtEnd">What it sends, then ends its sending, once the upload has ended cleanly; null to send nothing.</param>
    public UploadApp(byte[]? answer = null, Task? readAfter = null, byte[]? answerAtEnd = null) =>
        _server = new LoopbackTcpServer((socket, ct) => ReadAsync(socket, answer, readAfter ?? Task.CompletedTask, answerAtEnd, ct));

    /// <summary>The port it listens on.</summary>
    public int Port => _server.Port;

    /// <summary>How many bytes it has read so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The upload once the app read its end, or the reset that cut it.</summary>
    public Task<ReceivedUpload> Received => _received.Task;

    /// <summary>Waits until the app has read <paramref name="bytes"/>' length.</summary>
    public async Task ReadAsync(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (Count < bytes.Length)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>Fails unless the app read <paramref name="bytes"/> and then a reset.</summary>
    public async Task AssertCutAfterAsync(byte[] bytes)
    {
        var received = await Received.DefaultTimeout();
        Assert.Equal(bytes, received.Bytes);
        Assert.Equal(SocketError.ConnectionReset, received.Cut);
    }

    /// <summary>Fails unless the app read <paramref name="bytes"/> and then a clean end.</summary>
    public async Task AssertEndedAfterAsync(byte[] bytes)
    {
        var received = await Received.DefaultTimeout();
        Assert.Equal(bytes, received.Bytes);
        Assert.Null(received.Cut);
    }

    public void Dispose() => _server.Dispose();

    private async Task ReadAsync(Socket socket, byte[]? answer, Task readAfter, byte[]? answerAtEnd, CancellationToken ct)
    {
        await readAfter.WaitAsync(ct);
        var all = new MemoryStream();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
            {
                all.Write(buffer, 0, read);
                Interlocked.Add(ref _count, read);
                if (answer is not null)
                {
                    await socket.SendAsync(answer, SocketFlags.None, ct);
                    socket.Shutdown(SocketShutdown.Send);
                    answer = null;
                }
            }
        }
        catch (SocketException e)
        {
            Ended(all, e.SocketErrorCode);
            return;
        }

        Ended(all, null);
        if (answerAtEnd is not null)
        {
            await socket.SendAsync(answerAtEnd, SocketFlags.None, ct);
            socket.Shutdown(SocketShutdown.Send);
        }
    }

    private void Ended(MemoryStream all, SocketError? cut)
    {
        if (all.Length > 0)
        {
            _received.TrySetResult(new ReceivedUpload(all.ToArray(), cut));
        }
    }
}
