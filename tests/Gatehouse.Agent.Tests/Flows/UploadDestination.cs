using System.Net.Sockets;
using System.Text;
using Gatehouse.Testing;

namespace Gatehouse.Agent.Tests.Flows;

/// <summary>
/// A destination that reads an application's upload to its end and says how it ended: <c>FIN after N bytes</c> or
/// <c>reset after N bytes</c>. After a FIN it sends <see cref="Answer"/> and ends cleanly.
/// </summary>
internal sealed class UploadDestination : IDisposable
{
    /// <summary>What it answers a whole upload with: more than one read's worth.</summary>
    public static readonly string Answer = "got it\n" + new string('x', 200_000);

    private readonly TaskCompletionSource _firstBytes = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LoopbackTcpServer _server;

    public UploadDestination() => _server = new LoopbackTcpServer(ServeAsync);

    /// <summary>The port it listens on.</summary>
    public int Port => _server.Port;

    /// <summary>Completes once the upload's first bytes arrived.</summary>
    public Task FirstBytes => _firstBytes.Task;

    /// <summary>How the upload ended.</summary>
    public Task<string> Ended => _ended.Task;

    public void Dispose() => _server.Dispose();

    private async Task ServeAsync(Socket socket, CancellationToken ct)
    {
        var received = 0;
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, ct)) > 0)
            {
                received += read;
                _firstBytes.TrySetResult();
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            _ended.TrySetResult($"reset after {received} bytes");
            return;
        }

        _ended.TrySetResult($"FIN after {received} bytes");
        await socket.SendAsync(Encoding.ASCII.GetBytes(Answer), ct);
        socket.Shutdown(SocketShutdown.Send);
    }
}
