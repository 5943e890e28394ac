using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Agent.Flows;
using Gatehouse.Agent.State;
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
///                              (the final response's head gains Connection: close: ClosingResponseStream)
/// edge refuses: 403 (block page for HTTP, rule/reason/reference headers)
/// no edge answers: fail-closed 503, fail-open the same flow goes direct
/// </code>
/// One request per connection for absolute-form requests: the destination closes after its answer
/// and so does the session, which keeps the proxy from parsing responses beyond their status lines.
/// </remarks>
internal sealed class LocalProxySession : ApplicationConnection
{
    /// <summary>The default address (docs/architecture.md, "Defaults on one machine").</summary>
    public const string DefaultListen = "127.0.0.1:9000";

    /// <summary>How long a request head may take to arrive.</summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The longest request head accepted.</summary>
    public const int MaxHeadBytes = 64 * 1024;

    private readonly FlowOpener _flows;
    private readonly AgentState _state;
    private readonly string _advertised;

    public LocalProxySession(Socket client, FlowOpener flows, AgentState state, string advertised, ILogger logger)
        : base(client, logger)
    {
        _flows = flows;
        _state = state;
        _advertised = advertised;
    }

    protected override async Task ServeAsync(CancellationToken ct)
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
                await RespondAsync(400, "Bad Request", Target.AuthorityError(head.Target, portRequired: true) + "\n", "text/plain; charset=utf-8", [], ct);
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

    private async Task<RequestHead?> ReadHeadAsync(CancellationToken ct)
    {
        var head = new RequestHead();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HeadTimeout);
        var searched = 0L;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await In.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                await RespondAsync(408, "Request Timeout", "The request head did not arrive in time.\n", "text/plain; charset=utf-8", [], ct);
                return null;
            }

            var buffer = read.Buffer;
            switch (head.TryRead(buffer, MaxHeadBytes, ref searched, out var consumed))
            {
                case HeadStatus.Complete:
                    In.AdvanceTo(consumed);
                    return head;
                case HeadStatus.TooLarge:
                    In.AdvanceTo(buffer.End);
                    await RespondAsync(431, "Request Header Fields Too Large", $"The request head is longer than {MaxHeadBytes} bytes.\n", "text/plain; charset=utf-8", [], ct);
                    return null;
                case HeadStatus.Malformed:
                    In.AdvanceTo(buffer.End);
                    await RespondAsync(400, "Bad Request", $"The request is not valid HTTP/1.1: {head.Error}.\n", "text/plain; charset=utf-8", [], ct);
                    return null;
                default:
                    In.AdvanceTo(buffer.Start, buffer.End);
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
            await Stream.WriteAsync("HTTP/1.1 200 Connection established\r\n\r\n"u8.ToArray(), ct);
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
            // Flushed: a relayed flow's TLS holds what is written until a flush, and the client may have nothing more to send.
            await flow.Stream.WriteAsync(OriginFormHead(head, target), ct);
            await flow.Stream.FlushAsync(ct);
            await RelayAsync(flow with { Stream = new ClosingResponseStream(flow.Stream) }, ct);
        }
    }

    private Task<OpenedFlow> OpenAsync(Target target, CancellationToken ct) =>
        _flows.OpenAsync(target.Host, target.Port, direct: null, ClientAddress, ct);

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
        var reason = flow.ReasonText;
        var headers = flow.RefusalHeaders;
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

    private Task RelayAsync(OpenedFlow flow, CancellationToken ct) =>
        FlowRelay.RelayAsync(Client, Stream, In, flow, _state, ct);

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
            await Stream.WriteAsync(Encoding.ASCII.GetBytes(head), ct);
            await Stream.WriteAsync(bytes, ct);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The application is gone; nothing to tell it.
        }
    }

}
