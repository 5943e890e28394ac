using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Agent.Edges;
using Gatehouse.Agent.State;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.LocalProxy;

/// <summary>
/// One application connection to the local proxy.
/// </summary>
/// <remarks>
/// <code>
/// read head (HeadTimeout; 400/431/408 on bad or slow heads)
///   │ origin-form ──► GET /proxy.pac, or 400
///   ├ CONNECT host:port ──► edge flow to host:port ─► 200 ─► relay
///   └ GET http://host/path ──► edge flow to host:port ─► origin-form head (Connection: close) ─► relay ─► close
/// edge refuses: 403 (block page for HTTP, rule/reason/reference headers)
/// no edge answers: fail-closed 503, fail-open the same flow goes direct
/// </code>
/// One request per connection for absolute-form requests: the destination closes after its answer
/// and so does the session, which keeps the proxy from parsing responses.
/// </remarks>
internal sealed class LocalProxySession : IDisposable
{
    /// <summary>How long a request head may take to arrive.</summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The longest request head accepted.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    /// <summary>How long the application may go on sending after the destination has finished.</summary>
    public static readonly TimeSpan LingerAfterResponse = TimeSpan.FromSeconds(5);

    private readonly Socket _client;
    private readonly NetworkStream _stream;
    private readonly PipeReader _in;
    private readonly EdgeSet _edges;
    private readonly AgentState _state;
    private readonly string _advertised;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _abort = new();

    public LocalProxySession(Socket client, EdgeSet edges, AgentState state, string advertised, ILogger logger)
    {
        _client = client;
        _stream = new NetworkStream(client, ownsSocket: true);
        _in = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
        _edges = edges;
        _state = state;
        _advertised = advertised;
        _logger = logger;
    }

    private string ClientAddress => _client.RemoteEndPoint?.ToString() ?? "unknown";

    public void Abort() => _abort.Cancel();

    public void Dispose()
    {
        _in.Complete();
        _stream.Dispose();
        _abort.Dispose();
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _abort.Token);
        var ct = linked.Token;
        try
        {
            var head = await ReadHeadAsync(ct);
            if (head is null)
            {
                return;
            }

            if (head.Target.StartsWith('/'))
            {
                await ServeOwnPathAsync(head, ct);
                return;
            }

            if (head.IsConnect)
            {
                if (!Target.TryParseAuthority(head.Target, defaultPort: 0, out var authority))
                {
                    await RespondAsync(400, "Bad Request", "CONNECT needs HOST:PORT.\n", "text/plain; charset=utf-8", [], ct);
                    return;
                }

                await ConnectAsync(authority, ct);
                return;
            }

            if (!Target.TryParseAbsolute(head.Target, out var target, out var error))
            {
                await RespondAsync(400, "Bad Request", ProxyPages.ErrorPage("Bad request", error, null), "text/html; charset=utf-8", [], ct);
                return;
            }

            await ForwardAsync(head, target, ct);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The application or the destination went away, or the agent is stopping.
        }
        catch (Exception e)
        {
            AgentLog.SessionFailed(_logger, e, ClientAddress);
        }
    }

    private async Task<RequestHead?> ReadHeadAsync(CancellationToken ct)
    {
        var head = new RequestHead();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HeadTimeout);
        while (true)
        {
            ReadResult read;
            try
            {
                read = await _in.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await RespondAsync(408, "Request Timeout", "The request head did not arrive in time.\n", "text/plain; charset=utf-8", [], ct);
                return null;
            }

            var buffer = read.Buffer;
            switch (head.TryRead(buffer, MaxHeadBytes, out var consumed))
            {
                case HeadStatus.Complete:
                    _in.AdvanceTo(consumed);
                    return head;
                case HeadStatus.TooLarge:
                    _in.AdvanceTo(buffer.End);
                    await RespondAsync(431, "Request Header Fields Too Large", $"The request head is longer than {MaxHeadBytes} bytes.\n", "text/plain; charset=utf-8", [], ct);
                    return null;
                case HeadStatus.Malformed:
                    _in.AdvanceTo(buffer.End);
                    await RespondAsync(400, "Bad Request", $"The request is not valid HTTP/1.1: {head.Error}.\n", "text/plain; charset=utf-8", [], ct);
                    return null;
                default:
                    _in.AdvanceTo(buffer.Start, buffer.End);
                    if (read.IsCompleted)
                    {
                        if (!buffer.IsEmpty)
                        {
                            await RespondAsync(400, "Bad Request", "The connection closed in the middle of a request head.\n", "text/plain; charset=utf-8", [], ct);
                        }

                        return null;
                    }

                    break;
            }
        }
    }

    private async Task ServeOwnPathAsync(RequestHead head, CancellationToken ct)
    {
        var path = head.Target.Split('?')[0];
        if (head.Method is "GET" or "HEAD" && path is "/proxy.pac" or "/wpad.dat")
        {
            var pac = ProxyPages.Pac($"device {_state.DeviceId}", _advertised, privateNetworksDirect: false);
            await RespondAsync(200, "OK", head.IsHead ? string.Empty : pac, "application/x-ns-proxy-autoconfig", [], ct, declaredLength: Encoding.UTF8.GetByteCount(pac));
            return;
        }

        await RespondAsync(400, "Bad Request", ProxyPages.ErrorPage("This is the Gatehouse agent's local proxy", "Ask for absolute URLs (GET http://host/path) or CONNECT host:port; the PAC file is at /proxy.pac.", null), "text/html; charset=utf-8", [], ct);
    }

    private async Task ConnectAsync(Target target, CancellationToken ct)
    {
        var flow = await OpenAsync(target, ct);
        if (flow.Stream is null)
        {
            await RefuseAsync(flow, url: null, ct);
            return;
        }

        await using (flow.Stream)
        {
            await _stream.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), ct);
            await RelayAsync(flow, ct);
        }
    }

    private async Task ForwardAsync(RequestHead head, Target target, CancellationToken ct)
    {
        var flow = await OpenAsync(target, ct);
        if (flow.Stream is null)
        {
            await RefuseAsync(flow, url: $"http://{target.Authority}{target.PathAndQuery}", ct);
            return;
        }

        await using (flow.Stream)
        {
            await flow.Stream.WriteAsync(OriginFormHead(head, target), ct);
            await RelayAsync(flow, ct);
        }
    }

    /// <summary>A flow through an edge, or direct when no edge answers and the agent fails open.</summary>
    private async Task<OpenedFlow> OpenAsync(Target target, CancellationToken ct)
    {
        if (_state.DirectReason() is { } why)
        {
            return await OpenDirectAsync(target, why, ct);
        }

        var metadata = new TunnelFlowMetadata(FlowId: Guid.NewGuid().ToString("N"), Network: _state.Network, ClientAddress: ClientAddress);
        var opened = await _edges.OpenAsync(target.Host, target.Port, metadata, ct);
        if (opened.Outcome == EdgeOpenOutcome.Answered)
        {
            var result = opened.Result!;
            if (result.Status == 403)
            {
                _state.FlowRefused();
            }

            return new OpenedFlow(result.Stream, result.Status, result.Rule, result.Reason, result.Reference, Direct: false);
        }

        if (_state.FailMode != FailModes.Open)
        {
            return new OpenedFlow(null, 503, null, $"no edge answers and this device fails closed ({opened.Error})", null, Direct: false);
        }

        return await OpenDirectAsync(target, "no edge answers (fail-open)", ct);
    }

    private static async Task<OpenedFlow> OpenDirectAsync(Target target, string why, CancellationToken ct)
    {
        try
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(target.Host, target.Port, ct);
            }
            catch
            {
                socket.Dispose();
                throw;
            }

            return new OpenedFlow(new NetworkStream(socket, ownsSocket: true), 200, null, null, null, Direct: true);
        }
        catch (SocketException e)
        {
            return new OpenedFlow(null, 502, null, $"{why}; going direct failed: {e.Message}", null, Direct: true);
        }
    }

    /// <summary>Answers a flow that was not opened: a page for a plain-HTTP request (<paramref name="url"/>), plain text for CONNECT.</summary>
    private async Task RefuseAsync(OpenedFlow flow, string? url, CancellationToken ct)
    {
        var (phrase, title) = flow.Status switch
        {
            403 => ("Forbidden", "Blocked by your organisation's policy"),
            503 => ("Service Unavailable", "No Gatehouse edge answers"),
            504 => ("Gateway Timeout", "The destination did not answer in time"),
            _ => ("Bad Gateway", "The destination cannot be reached"),
        };
        var reason = flow.Reason ?? "the edge gave no reason";
        (string, string)[] headers =
        [
            ("Gatehouse-Rule", flow.Rule ?? string.Empty),
            ("Gatehouse-Reason", reason),
            ("Gatehouse-Reference", flow.Reference ?? string.Empty),
        ];
        var status = flow.Status is >= 400 and <= 599 ? flow.Status : 502;
        if (url is not null)
        {
            var page = status == 403
                ? ProxyPages.BlockPage(url, flow.Rule, reason, flow.Reference ?? string.Empty)
                : ProxyPages.ErrorPage(title, reason, flow.Reference);
            await RespondAsync(status, phrase, page, "text/html; charset=utf-8", headers, ct);
        }
        else
        {
            await RespondAsync(status, phrase, $"{title}: {reason}\nrule: {flow.Rule}\nreference: {flow.Reference}\n", "text/plain; charset=utf-8", headers, ct);
        }
    }

    /// <summary>Carries bytes both ways; the application's end of sending is a half-close towards the destination.</summary>
    private async Task RelayAsync(OpenedFlow flow, CancellationToken ct)
    {
        _state.FlowOpened();
        long up = 0;
        long down = 0;
        try
        {
            var upload = Task.Run(
                async () =>
                {
                    while (true)
                    {
                        var read = await _in.ReadAsync(ct);
                        foreach (var segment in read.Buffer)
                        {
                            await flow.Stream!.WriteAsync(segment, ct);
                            up += segment.Length;
                        }

                        _in.AdvanceTo(read.Buffer.End);
                        if (read.IsCompleted)
                        {
                            break;
                        }

                        await flow.Stream!.FlushAsync(ct);
                    }

                    await flow.Stream!.FlushAsync(ct);
                    EndWrites(flow.Stream!);
                },
                ct);

            var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                while (true)
                {
                    var read = await flow.Stream!.ReadAsync(buffer, ct);
                    if (read == 0)
                    {
                        break;
                    }

                    await _stream.WriteAsync(buffer.AsMemory(0, read), ct);
                    down += read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            // The destination has finished: tell the application, and let it finish sending for a little while.
            _client.Shutdown(SocketShutdown.Send);
            await upload.WaitAsync(LingerAfterResponse, ct);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or TimeoutException or ObjectDisposedException or HttpRequestException)
        {
            // One side went away or the flow was cut; the session ends and closes both.
        }
        finally
        {
            _state.FlowClosed(up, down);
        }
    }

    private static void EndWrites(Stream stream)
    {
        switch (stream)
        {
            case HalfCloseStream tunnel:
                tunnel.CompleteWrites();
                break;
            case NetworkStream direct:
                direct.Socket.Shutdown(SocketShutdown.Send);
                break;
        }
    }

    private static byte[] OriginFormHead(RequestHead head, Target target)
    {
        var text = new StringBuilder(256);
        text.Append(head.Method).Append(' ').Append(target.PathAndQuery).Append(" HTTP/1.1\r\nHost: ").Append(target.Authority).Append("\r\n");
        var raw = head.Raw;
        foreach (var (start, length) in head.PassLines)
        {
            text.Append(Encoding.Latin1.GetString(raw.Slice(start, length))).Append("\r\n");
        }

        text.Append("Connection: close\r\n\r\n");
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    private async Task RespondAsync(int status, string phrase, string body, string contentType, (string Name, string Value)[] headers, CancellationToken ct, int? declaredLength = null)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var head = ProxyPages.ResponseHead(status, phrase, contentType, declaredLength ?? bytes.Length, headers, close: true);
        try
        {
            await _stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
            await _stream.WriteAsync(bytes, ct);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The application is gone; nothing to tell it.
        }
    }

    private sealed record OpenedFlow(Stream? Stream, int Status, string? Rule, string? Reason, string? Reference, bool Direct);
}
