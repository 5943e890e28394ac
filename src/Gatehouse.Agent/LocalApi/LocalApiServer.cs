using System.Net.Sockets;
using Gatehouse.Wire.Agent;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.LocalApi;

/// <summary>
/// Serves <see cref="AgentLocalApi"/> on a Unix socket: one request line, one answer line, per
/// connection. The handler gets the peer's kernel-reported credentials to decide who may do what.
/// The socket file is made readable and writable by everyone (<c>status</c> is for every user);
/// commands that change the agent check the peer.
/// </summary>
internal sealed class LocalApiServer : IAsyncDisposable
{
    /// <summary>How long a client may take to send its request.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _listener;
    private readonly string _path;
    private readonly Func<AgentRequest, PeerCredentials, CancellationToken, Task<AgentResponse>> _handle;
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;
    private Task _accepting = Task.CompletedTask;

    private LocalApiServer(Socket listener, string path, Func<AgentRequest, PeerCredentials, CancellationToken, Task<AgentResponse>> handle)
    {
        _listener = listener;
        _path = path;
        _handle = handle;
    }

    /// <summary>Listens at <paramref name="path"/>, replacing a stale socket file a dead process left.</summary>
    /// <param name="path">The socket's path; its directory is made when missing.</param>
    /// <param name="mode">The socket file's permissions.</param>
    /// <param name="handle">Answers one request.</param>
    /// <param name="logger">Where to log.</param>
    public static LocalApiServer Start(string path, UnixFileMode mode, Func<AgentRequest, PeerCredentials, CancellationToken, Task<AgentResponse>> handle, ILogger logger)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (File.Exists(path))
        {
            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, mode);
            }
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        var server = new LocalApiServer(listener, path, handle);
        server._accepting = server.AcceptLoopAsync();
        AgentLog.LocalApiListening(logger, path);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
            // Gone already.
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await _listener.AcceptAsync(_stop.Token);
                _ = ServeAsync(client);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(RequestTimeout);
        await using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            var peer = PeerCredentials.Of(client);
            var line = await AgentLocalApi.ReadLineAsync(stream, timeout.Token);
            var request = line is null ? null : AgentLocalApi.Parse(line, AgentJsonContext.Default.AgentRequest);
            AgentResponse response;
            if (request?.Command is null)
            {
                response = new AgentResponse(false, "The request is not a JSON agent request on one line.", null);
            }
            else
            {
                // Handling may take longer than reading (enrolling calls the portal): it has its own bounds.
                response = await _handle(request, peer, _stop.Token);
            }

            await AgentLocalApi.WriteLineAsync(stream, response, AgentJsonContext.Default.AgentResponse, timeout.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidDataException)
        {
            // The client went away, was too slow, or sent too much.
        }
    }
}
