using System.Net.Sockets;
using Gatehouse.Testing;

namespace Gatehouse.Connector.Tests;

/// <summary>How an upload reached the app: what came, and whether it ended (a FIN) or was cut (a reset).</summary>
/// <param name="Bytes">The bytes the app read.</param>
/// <param name="Cut">The error its read ended with; null when it read a clean end.</param>
internal sealed record ReceivedUpload(byte[] Bytes, SocketError? Cut);

/// <summary>
/// A private app that takes one upload: it reads its connection until it ends, and tells how it ended. It can first
/// answer the upload's first bytes and end its own sending, as a server that has said everything and waits for the
/// client to close. A connection that ends before its first byte is the connector's health check, not the upload.
/// </summary>
internal sealed class UploadApp : IDisposable
{
    private readonly TaskCompletionSource<ReceivedUpload> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LoopbackTcpServer _server;
    private int _count;

    /// <param name="answer">What it sends, then ends its sending, once the first bytes came; null to send nothing.</param>
    public UploadApp(byte[]? answer = null) => _server = new LoopbackTcpServer((socket, ct) => ReadAsync(socket, answer, ct));

    /// <summary>The port it listens on.</summary>
    public int Port => _server.Port;

    /// <summary>How many bytes it has read so far.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The upload once the app read its end, or the reset that cut it.</summary>
    public Task<ReceivedUpload> Received => _received.Task;

    /// <summary>Waits until the app has read <paramref name="bytes"/>' length.</summary>
    public Task ReadAsync(byte[] bytes) => PrivateAccessFixture.WaitForAsync(() => Count >= bytes.Length, $"the app to read {bytes.Length} bytes");

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

    private async Task ReadAsync(Socket socket, byte[]? answer, CancellationToken ct)
    {
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
    }

    private void Ended(MemoryStream all, SocketError? cut)
    {
        if (all.Length > 0)
        {
            _received.TrySetResult(new ReceivedUpload(all.ToArray(), cut));
        }
    }
}
