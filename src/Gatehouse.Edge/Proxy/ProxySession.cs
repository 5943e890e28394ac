using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Identities;
using Gatehouse.Edge.Private;
using Gatehouse.Flows;
using Gatehouse.Policy.Decisions;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Http;
using Gatehouse.Wire.Logs;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Edge.Proxy;

/// <summary>
/// One client connection to the forward proxy.
/// </summary>
/// <remarks>
/// <code>
/// read head (keep-alive timeout, then header timeout; 400/431/408 on bad or slow heads)
///   │ origin-form ──► GET /proxy.pac, or 400
///   │ Proxy-Authorization ──✗──► 407 (nothing is resolved or dialled); too many wrong from the address: 429, unchecked
///   ├ CONNECT host:port ──► resolve ─► decide(host, port, ip) ─► egress ─► dial ─► 200 ─► relay
///   │                                      block: 403                           first bytes: TLS SNI ─► decide again
///   └ GET http://host/path ─► resolve (or reuse the upstream) ─► decide(url) ─► block page | caution page
///                                 ─► egress ─► dial or reuse ─► head + body up ─► head + body down ─► next request
/// every request or flow ends in one record (DataPath.Finish)
/// </code>
/// </remarks>
internal sealed class ProxySession : IAsyncDisposable
{
    private readonly DataPath _path;
    private readonly ProxyAuthThrottle _auth;
    private readonly UInt128 _clientKey;
    private readonly ConnectionContext _connection;
    private readonly PipeReader _in;
    private readonly PipeWriter _out;
    private readonly string _client;
    private readonly string _advertised;
    private readonly ILogger _logger;
    private readonly CancellationTokenRegistration _onStopping;
    private readonly RequestHead _requestHead = new();
    private readonly ResponseHead _responseHead = new();
    private CancellationTokenSource _timeout = new();
    private CancellationTokenSource? _responseDeadline;
    private OpenFlow? _httpFlow;
    private Upstream? _upstream;
    private volatile bool _betweenRequests;
    private bool _cut;

    public ProxySession(DataPath path, ProxyAuthThrottle auth, ConnectionContext connection, string advertised, ILogger logger)
    {
        _path = path;
        _auth = auth;
        _clientKey = ProxyAuthThrottle.KeyOf(connection.RemoteEndPoint);
        _connection = connection;
        _in = connection.Transport.Input;
        _out = connection.Transport.Output;
        _client = connection.RemoteEndPoint?.ToString() ?? "unknown";
        _advertised = advertised;
        _logger = logger;

        // When the edge stops, a connection waiting for its next request closes at once; one in a request finishes it.
        _onStopping = path.Stopping.Register(() =>
        {
            if (_betweenRequests)
            {
                _in.CancelPendingRead();
            }
        });
    }

    private string TenantId => _path.TenantId;

    /// <summary>The <c>Proxy-Authorization</c> of the request being served: the flows it opens end when it stops authenticating.</summary>
    private string? _credential;

    /// <summary>
    /// A flow of this connection. A plain-HTTP request's flow ends when the client closes, as Squid and nginx end
    /// theirs. A CONNECT tunnel's does not: Kestrel's <c>ConnectionClosed</c> fires at the client's FIN, and the relay
    /// carries that FIN to the destination as a half-close, then ends when the destination has finished too.
    /// </summary>
    private OpenFlow OpenFlow(bool tunnel = false)
    {
        var flow = _path.Flows.Open(tunnel ? CancellationToken.None : _connection.ConnectionClosed);
        flow.Credential = _credential;
        return flow;
    }

    public async Task RunAsync()
    {
        try
        {
            var first = true;
            while (true)
            {
                var head = await ReadRequestHeadAsync(first);
                first = false;
                if (head is null || !await HandleAsync(head))
                {
                    return;
                }
            }
        }
        catch (Exception e) when (Relay.IsEndOfFlow(e))
        {
            // The client or the destination went away; the record of the request in progress says so.
        }
        catch (Exception e)
        {
            ProxyLog.SessionFailed(_logger, e, _client);
        }
        finally
        {
            if (_cut)
            {
                // Last, once the flow is recorded and gone, as a FIN would come.
                ResetClient();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }

        await _onStopping.DisposeAsync();
        _timeout.Dispose();
        _responseDeadline?.Dispose();
        _httpFlow?.Dispose();
    }

    private CancellationToken Deadline(TimeSpan after)
    {
        if (!_timeout.TryReset())
        {
            _timeout.Dispose();
            _timeout = new CancellationTokenSource();
        }

        _timeout.CancelAfter(after);
        return _timeout.Token;
    }

    private async ValueTask<RequestHead?> ReadRequestHeadAsync(bool first)
    {
        var head = _requestHead;
        var started = false;
        var searched = 0L;
        var ct = Deadline(first ? _path.Limits.HeaderTimeout : _path.Limits.KeepAliveTimeout);
        _betweenRequests = !first;
        if (_path.Stopping.IsCancellationRequested && !first)
        {
            return null;
        }

        while (true)
        {
            ReadResult read;
            try
            {
                read = await _in.ReadAsync(ct);
            }
            catch (OperationCanceledException)
            {
                _betweenRequests = false;
                if (started)
                {
                    RecordUnreadable(408, "the request head did not arrive in time");
                }

                if (started || first)
                {
                    await RespondAsync(408, "Request Timeout", ProxyPages.ErrorPage("Request timeout", "The request head did not arrive in time.", null), close: true);
                }

                return null;
            }

            if (read.IsCanceled)
            {
                return null;
            }

            var buffer = read.Buffer;
            var firstBytes = !started && !buffer.IsEmpty;
            if (firstBytes)
            {
                started = true;
                _betweenRequests = false;
            }

            switch (head.TryRead(buffer, _path.Limits.MaxHeadBytes, ref searched, out var consumed))
            {
                case HeadStatus.Complete:
                    _in.AdvanceTo(consumed);
                    return head;
                case HeadStatus.TooLarge:
                    _in.AdvanceTo(buffer.End);
                    RecordUnreadable(431, $"the request head is longer than {_path.Limits.MaxHeadBytes} bytes");
                    await RespondAsync(431, "Request Header Fields Too Large", ProxyPages.ErrorPage("Request head too large", $"The request head is longer than {_path.Limits.MaxHeadBytes} bytes.", null), close: true);
                    return null;
                case HeadStatus.Malformed:
                    _in.AdvanceTo(buffer.End);
                    ProxyLog.BadRequest(_logger, _client, head.Error ?? "malformed");
                    RecordUnreadable(400, $"the request is not valid HTTP/1.1: {head.Error}");
                    await RespondAsync(400, "Bad Request", ProxyPages.ErrorPage("Bad request", $"The request is not valid HTTP/1.1: {head.Error}.", null), close: true);
                    return null;
                default:
                    _in.AdvanceTo(buffer.Start, buffer.End);
                    if (read.IsCompleted)
                    {
                        if (started)
                        {
                            RecordUnreadable(400, "the connection closed in the middle of a request head");
                            await RespondAsync(400, "Bad Request", ProxyPages.ErrorPage("Bad request", "The connection closed in the middle of a request head.", null), close: true);
                        }

                        return null;
                    }

                    if (firstBytes)
                    {
                        // The head has begun: the rest must come within the header timeout. Armed only now, since
                        // nearly every head arrives whole in its first read and a timer costs a lock each time.
                        ct = Deadline(_path.Limits.HeaderTimeout);
                    }

                    break;
            }
        }
    }

    /// <summary>Handles one request; false when the connection must end.</summary>
    private async ValueTask<bool> HandleAsync(RequestHead head)
    {
        var keepAlive = !head.Close && !head.HasBody;
        if (head.Target.StartsWith('/'))
        {
            return await ServeOwnPathAsync(head) && keepAlive;
        }

        var started = _path.Time.GetUtcNow();
        _credential = head.ProxyAuthorization;
        ProxyUser? user = null;
        var refusal = default(ProxyAuthRefusal);
        if (_credential is not null
            && _auth.Authenticate(_clientKey, _credential, _path.Policy.Identities.Credentials, out user, out refusal) == ProxyAuthOutcome.Refused)
        {
            // 429, not 407: a 407 makes a browser ask its user again, and a right password would be refused unchecked.
            var seconds = (long)Math.Ceiling(refusal.RetryAfter.TotalSeconds);
            RecordEarlyRefusal(head, started, 429, $"{refusal.Reason}: refused for {seconds} s");
            await RespondAsync(
                429,
                "Too Many Requests",
                ProxyPages.ErrorPage("Too many wrong proxy credentials", $"Too many wrong proxy credentials came from your address. Try again in {seconds} seconds.", null),
                close: true,
                ("Retry-After", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return false;
        }

        if (user is null)
        {
            RecordEarlyRefusal(head, started, 407, _credential is null ? "no proxy credentials" : "wrong proxy credentials");
            await RespondAsync(
                407,
                "Proxy Authentication Required",
                ProxyPages.ErrorPage("Proxy authentication required", "Sign in with your Gatehouse proxy credentials.", null),
                close: !keepAlive,
                ("Proxy-Authenticate", "Basic realm=\"Gatehouse\", charset=\"UTF-8\""));
            return keepAlive;
        }

        if (head.IsConnect)
        {
            if (!Target.TryParseAuthority(head.Target, defaultPort: 0, out var connectTarget))
            {
                var unreadable = Target.AuthorityError(head.Target, portRequired: true);
                RecordEarlyRefusal(head, started, 400, unreadable, user);
                await RespondAsync(400, "Bad Request", ProxyPages.ErrorPage("Bad request", unreadable, null), close: true);
                return false;
            }

            await ConnectAsync(head, user, connectTarget, started);
            return false;
        }

        if (!Target.TryParseAbsolute(head.Target, out var target, out var error))
        {
            RecordEarlyRefusal(head, started, 400, error, user);
            await RespondAsync(400, "Bad Request", ProxyPages.ErrorPage("Bad request", error, null), close: true);
            return false;
        }

        if (target.Host.Equals(ProxyPages.CautionHost, StringComparison.OrdinalIgnoreCase))
        {
            return await ContinuePastCautionAsync(head, user, target, started) && keepAlive;
        }

        return await ForwardAsync(head, user, target, started);
    }

    /// <summary>
    /// Records a request whose head could not be read (malformed, too large, cut short, too slow): no user, host or method,
    /// since nothing in it can be trusted. A connection that closes or times out before its first byte is not a request.
    /// </summary>
    private void RecordUnreadable(int status, string reason) =>
        _path.Finish(Record(_path.Time.GetUtcNow(), TransactionKinds.Http, TransactionActions.Denied, string.Empty, 0, null) with { Status = status, Reason = reason });

    /// <summary>
    /// Records a request refused before policy decided it (no or wrong credentials, a target that does not parse): what it
    /// asked for as far as that reads (host, port, the URL of a plain-HTTP request), and its user when one is known.
    /// </summary>
    private void RecordEarlyRefusal(RequestHead head, DateTimeOffset started, int status, string reason, ProxyUser? user = null)
    {
        var asked = RequestedTarget(head);
        _path.Finish(Record(started, head.IsConnect ? TransactionKinds.Flow : TransactionKinds.Http, TransactionActions.Denied, asked?.Host ?? string.Empty, asked?.Port ?? 0, user) with
        {
            Method = head.Method,
            Url = head.IsConnect || asked is not { } askedTarget ? null : UrlOf(askedTarget),
            Status = status,
            Reason = reason,
        });
    }

    private async ValueTask<bool> ServeOwnPathAsync(RequestHead head)
    {
        var path = head.Target.Split('?')[0];
        if (head.Method is "GET" or "HEAD" && path is "/proxy.pac" or "/wpad.dat")
        {
            var pac = ProxyPages.Pac(_path.Policy.Identities.TenantName, _advertised, privateApps: _path.Policy.Private.SegmentNetworks);
            await RespondAsync(200, "OK", head.IsHead ? string.Empty : pac, close: head.Close, contentType: "application/x-ns-proxy-autoconfig", declaredLength: Encoding.UTF8.GetByteCount(pac));
            return true;
        }

        await RespondAsync(400, "Bad Request", ProxyPages.ErrorPage("This is a forward proxy", "Ask for absolute URLs (GET http://host/path) or CONNECT host:port; the PAC file is at /proxy.pac.", null), close: true);
        return false;
    }

    private async Task ConnectAsync(RequestHead head, ProxyUser user, Target target, DateTimeOffset started)
    {
        if (PrivateApp(user, target, started) is { } app)
        {
            await ConnectPrivateAsync(user, target, app, started);
            return;
        }

        var clock = Stopwatch.GetTimestamp();
        using var flow = OpenFlow(tunnel: true);
        var resolution = await _path.Dialer.ResolveAsync(target.Host, flow.Cancellation);
        var policy = _path.Policy.Holder.Current;
        var decided = Context(user, target, resolution.First, FlowProtocol.Tcp, url: null, started);
        var decision = policy.Decide(decided);
        var record = Record(started, TransactionKinds.Flow, TransactionActions.Allow, target.Host, target.Port, user) with
        {
            Method = "CONNECT",
            DestinationIp = resolution.First?.ToString(),
            Category = decision.Category,
            Rule = decision.RuleName,
        };

        if (Refusal(decision, user, target.Host) is { } refusal)
        {
            await RefuseConnectAsync(record, refusal.Action, decision.RuleName, refusal.Reason);
            return;
        }

        if (decision.Action == PolicyAction.Caution)
        {
            record = record with { Action = TransactionActions.CautionContinued };
        }

        if (resolution.Error != DialError.None)
        {
            await FailAsync(record, resolution.Error, resolution.Reason!, clock);
            return;
        }

        var connection = await _path.Dialer.ConnectAsync(DecidedAddresses.Of(policy, decided, decision, resolution.Addresses), target.Port, flow.Cancellation);
        record = record with { DestinationIp = connection.Address?.ToString() ?? record.DestinationIp };
        if (connection.Error != DialError.None)
        {
            await FailAsync(record, connection.Error, connection.Reason!, clock);
            return;
        }

        await using var upstream = new SocketPipe(connection.Socket!);
        _out.Write("HTTP/1.1 200 Connection established\r\n\r\n"u8);
        await _out.FlushAsync(flow.Cancellation);

        var firstRequest = new FirstRequestCheck(
            target.Host,
            request => policy.Decide(Context(user, request.Host is { } name ? target.WithHost(name) : target, resolution.First, request.Protocol, request.Url, started)),
            (decided, name) => Refusal(decided, user, name));
        var bytes = await Relay.RunAsync(_connection.Transport, upstream, flow, () => _out.Complete(), firstRequest.Inspect);
        ResetIfCut(flow);

        record = firstRequest.Applied(record);

        _path.Finish(DataPath.WithEnding(record, flow) with { Status = 200, BytesUp = bytes.Up, BytesDown = bytes.Down, DurationMs = Elapsed(clock) });
    }

    /// <summary>
    /// A CONNECT to a private app: the access policy decides, a connector carries it, the edge never dials it
    /// (the internet policy, DNS and egress play no part).
    /// </summary>
    private async Task ConnectPrivateAsync(ProxyUser user, Target target, PrivateTarget app, DateTimeOffset started)
    {
        var clock = Stopwatch.GetTimestamp();
        var record = Record(started, TransactionKinds.Flow, TransactionActions.Allow, target.Host, target.Port, user) with { Method = "CONNECT" };
        var decision = _path.Policy.Private.Decide(app.Flow, app.Segment, user.Email, out var refusal);
        record = record with { Rule = decision.RuleName };
        if (refusal is not null)
        {
            await RefuseConnectAsync(record, TransactionActions.Block, decision.RuleName, refusal);
            return;
        }

        using var flow = OpenFlow(tunnel: true);
        using var brokered = await _path.Connectors.OpenAsync(app.Segment, target.Host, target.Port, new TunnelFlowMetadata(UserId: user.Id), flow.Cancellation);
        record = record with { Reason = brokered.Via(app.Segment) };
        if (brokered.Stream is not { } stream)
        {
            await FailAsync(record, DialError.Unreachable, brokered.Reason ?? record.Reason!, clock, brokered.Status == 503 ? 503 : 502);
            return;
        }

        _out.Write("HTTP/1.1 200 Connection established\r\n\r\n"u8);
        await _out.FlushAsync(flow.Cancellation);
        var bytes = await Relay.RunAsync(_connection.Transport, stream, flow, stream.CompleteWrites, () => _out.Complete(), stream.Reset);
        ResetIfCut(flow);

        _path.Finish(DataPath.WithEnding(record, flow) with { Status = 200, BytesUp = bytes.Up, BytesDown = bytes.Down, DurationMs = Elapsed(clock) });
    }

    /// <summary>
    /// Has the session end with a reset when the flow was cut (the destination reset it, a revoked connector, the idle
    /// timeout): see <see cref="ResetClient"/>.
    /// </summary>
    private void ResetIfCut(OpenFlow flow) => _cut |= flow.WasCut;

    /// <summary>
    /// Ends the client's connection with a reset: a FIN would tell the client the data ended, and a download whose end
    /// is the connection's (HTTP/1.0, a tar stream) would look complete. Kestrel's own abort closes gracefully, so the
    /// socket is closed here, with no lingering.
    /// </summary>
    private void ResetClient() => ConnectionResets.Reset(_connection, "the flow was cut");

    /// <summary>A destination in one of the tenant's app segments, and the flow the access policy decides.</summary>
    private readonly record struct PrivateTarget(string Segment, FlowContext Flow);

    /// <summary>The app segment <paramref name="target"/> is in, if any: then it is a private app, whichever policy would say otherwise.</summary>
    private PrivateTarget? PrivateApp(ProxyUser user, Target target, DateTimeOffset started)
    {
        var apps = _path.Policy.Private;
        if (apps.SegmentConnectorGroups.Count == 0)
        {
            return null;
        }

        var literal = target.IsAddress && FlowDialer.TryParseAddress(target.Host, out var address) ? address : null;
        var flow = Context(user, target, literal, FlowProtocol.Tcp, url: null, started);
        return apps.Access.AppSegmentOf(flow) is { } segment ? new PrivateTarget(segment, flow) : null;
    }

    private async ValueTask<bool> ForwardAsync(RequestHead head, ProxyUser user, Target target, DateTimeOffset started)
    {
        var clock = Stopwatch.GetTimestamp();

        // One flow for the whole kept-alive connection: opening one per request would cost a linked cancellation each time.
        var flow = _httpFlow ??= OpenFlow();
        flow.Credential = _credential;
        flow.Touch();
        var meter = new RequestMeter(flow, flow.BytesUp, flow.BytesDown, clock);
        var url = UrlOf(target);
        var keepAlive = !head.Close && !head.HasBody;
        var app = PrivateApp(user, target, started);
        var reuse = _upstream is { } current && current.Matches(target, app?.Segment) && !current.SentUnasked();
        Resolution? resolution = null;
        IPAddress[] dialable = [];
        TransactionLogRecord record;
        if (app is { } privateApp)
        {
            // A private app: the access policy decides each request; a connector carries them.
            var decision = _path.Policy.Private.Decide(privateApp.Flow, privateApp.Segment, user.Email, out var refusal);
            record = Record(started, TransactionKinds.Http, TransactionActions.Allow, target.Host, target.Port, user) with { Method = head.Method, Url = url, Rule = decision.RuleName, Reason = reuse ? _upstream!.Via : null };
            if (refusal is not null)
            {
                return await BlockPageAsync(record, url, decision.RuleName, refusal, keepAlive, clock);
            }
        }
        else
        {
            IPAddress? address;
            if (reuse)
            {
                address = _upstream!.Address;
            }
            else
            {
                resolution = await _path.Dialer.ResolveAsync(target.Host, flow.Cancellation);
                address = resolution.Value.First;
            }

            var policy = _path.Policy.Holder.Current;
            var decided = Context(user, target, address, FlowProtocol.Http, url, started);
            var decision = policy.Decide(decided);
            record = Record(started, TransactionKinds.Http, TransactionActions.Allow, target.Host, target.Port, user) with
            {
                Method = head.Method,
                Url = url,
                DestinationIp = address?.ToString(),
                Category = decision.Category,
                Rule = decision.RuleName,
            };

            if (decision.Action == PolicyAction.Block)
            {
                return await BlockPageAsync(record, url, decision.RuleName, Refusal(decision, user, target.Host)!.Value.Reason, keepAlive, clock);
            }

            if (decision.Action == PolicyAction.Caution)
            {
                if (!_path.Cautions.IsAccepted(user.Id, target.Host))
                {
                    var reference = DataPath.NewReferenceId();
                    var continueUrl = ProxyPages.ContinueUrl(url, _path.Cautions.Issue(user.Id, url));
                    _path.Finish(record with { Action = TransactionActions.Caution, Status = 200, Reason = $"caution by rule {decision.RuleName}", ReferenceId = reference, DurationMs = Elapsed(clock) });
                    await RespondAsync(200, "OK", ProxyPages.CautionPage(url, decision.RuleName, continueUrl, reference), close: !keepAlive, headers: [("Cache-Control", "no-store"), ("Gatehouse-Rule", decision.RuleName ?? string.Empty)]);
                    return keepAlive;
                }

                record = record with { Action = TransactionActions.CautionContinued };
            }

            if (resolution is { Error: not DialError.None } failed)
            {
                await FailAsync(record, failed.Error, failed.Reason!, clock);
                return false;
            }

            if (resolution is { } resolved)
            {
                dialable = DecidedAddresses.Of(policy, decided, decision, resolved.Addresses);
            }
        }

        if (!reuse)
        {
            await DropUpstreamAsync();
            var opened = await OpenUpstreamAsync(target, app, dialable, user, flow);
            if (opened.Failure is { } failure)
            {
                await FailAsync(record with { DestinationIp = failure.Address?.ToString() ?? record.DestinationIp, Reason = failure.Via ?? record.Reason }, failure.Error, failure.Reason, clock, failure.Status);
                return false;
            }

            _upstream = opened.Upstream!;
            record = record with { DestinationIp = _upstream.Address?.ToString() ?? record.DestinationIp, Reason = _upstream.Via ?? record.Reason };
        }

        var exchange = await ExchangeOrRecordAsync(head, target, reuse, record, meter);
        if (exchange.RetryOnFreshConnection)
        {
            // A kept-alive upstream connection the server had closed: one retry on a fresh one, as browsers do.
            var address = _upstream!.Address;
            await DropUpstreamAsync();
            var opened = await OpenUpstreamAsync(target, app, address is null ? [] : [address], user, flow);
            if (opened.Failure is { } failure)
            {
                await FailAsync(record, failure.Error, failure.Reason, clock, failure.Status);
                return false;
            }

            _upstream = opened.Upstream;
            exchange = await ExchangeOrRecordAsync(head, target, reused: false, record, meter);
        }

        if (exchange.Failure is { } exchangeFailure)
        {
            await DropUpstreamAsync();
            if (!exchange.ResponseStarted)
            {
                await FailAsync(record with { BytesUp = meter.BytesUp }, exchangeFailure.Error, exchangeFailure.Reason, clock, exchangeFailure.RespondWith);
                return false;
            }

            _path.Finish(record with { Action = TransactionActions.Error, Status = exchange.Status, Reason = exchangeFailure.Reason, BytesUp = meter.BytesUp, BytesDown = meter.BytesDown, DurationMs = meter.DurationMs });
            _cut = true; // a client reading to the connection's end must not take the response as whole
            return false;
        }

        if (!exchange.UpstreamReusable)
        {
            await DropUpstreamAsync();
        }

        _path.Finish(record with { Status = exchange.Status, BytesUp = meter.BytesUp, BytesDown = meter.BytesDown, DurationMs = meter.DurationMs });
        return exchange.ClientReusable;
    }

    /// <summary>
    /// <see cref="ExchangeAsync"/>; when the end of the flow interrupts it (the client went away, the flow sat idle
    /// too long, the edge stopped), the request is recorded before the session ends, as a completed one is.
    /// </summary>
    private async ValueTask<Exchange> ExchangeOrRecordAsync(RequestHead head, Target target, bool reused, TransactionLogRecord record, RequestMeter meter)
    {
        try
        {
            return await ExchangeAsync(head, target, meter.Flow, reused);
        }
        catch (Exception e) when (Relay.IsEndOfFlow(e))
        {
            await FinishInterruptedAsync(record, meter);
            _cut = true;
            throw;
        }
    }

    /// <summary>Records a request whose exchange the end of its flow interrupted, with the status and bytes so far.</summary>
    private async ValueTask FinishInterruptedAsync(TransactionLogRecord record, RequestMeter meter)
    {
        await DropUpstreamAsync();
        var reason = _connection.ConnectionClosed.IsCancellationRequested ? "the client went away"
            : _path.Stopping.IsCancellationRequested ? "the edge stopped"
            : _httpFlow?.EndedBecause is { } because ? $"the edge ended the flow: {because}"
            : "the connection to the destination broke (reset or closed)";
        _path.Finish(record with
        {
            Action = TransactionActions.Error,
            Status = _responding,
            Reason = _responding is null ? $"{reason} before the destination answered" : reason, // as when a flush finds the client gone
            BytesUp = meter.BytesUp,
            BytesDown = meter.BytesDown,
            DurationMs = meter.DurationMs,
        });
    }

    /// <summary>
    /// One request's share of its kept-alive flow: the flow's bytes each way when the request began, and its start
    /// time (<see cref="Stopwatch"/> ticks). A struct, so that measuring a request allocates nothing.
    /// </summary>
    private readonly record struct RequestMeter(OpenFlow Flow, long UpAtStart, long DownAtStart, long Clock)
    {
        public long BytesUp => Flow.BytesUp - UpAtStart;

        public long BytesDown => Flow.BytesDown - DownAtStart;

        public long DurationMs => Elapsed(Clock);
    }

    /// <summary>Why no upstream could be opened: the status and reason for the client, and what the record keeps.</summary>
    private sealed record UpstreamFailure(DialError Error, string Reason, int? Status, IPAddress? Address, string? Via);

    /// <summary>
    /// Opens what a request goes out on: a TCP connection to one of <paramref name="addresses"/>, or, for a private
    /// app, a flow through a connector that serves its segment (the edge never dials a private app).
    /// </summary>
    private async ValueTask<(Upstream? Upstream, UpstreamFailure? Failure)> OpenUpstreamAsync(Target target, PrivateTarget? app, IPAddress[] addresses, ProxyUser user, OpenFlow flow)
    {
        if (app is { Segment: var segment })
        {
            var brokered = await _path.Connectors.OpenAsync(segment, target.Host, target.Port, new TunnelFlowMetadata(UserId: user.Id), flow.Cancellation);
            var via = brokered.Via(segment);
            if (brokered.Stream is null)
            {
                brokered.Dispose();
                return (null, new UpstreamFailure(DialError.Unreachable, brokered.Reason ?? via, brokered.Status == 503 ? 503 : 502, null, via));
            }

            return (new Upstream(target, segment, null, new BrokeredPipe(brokered), via), null);
        }

        var connection = await _path.Dialer.ConnectAsync(addresses, target.Port, flow.Cancellation);
        if (connection.Error != DialError.None)
        {
            return (null, new UpstreamFailure(connection.Error, connection.Reason!, null, connection.Address, null));
        }

        return (new Upstream(target, null, connection.Address!, new SocketPipe(connection.Socket!), null), null);
    }

    private async ValueTask DropUpstreamAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
            _upstream = null;
        }
    }

    /// <summary>Sends one request to the upstream and its response back.</summary>
    private async ValueTask<Exchange> ExchangeAsync(RequestHead head, Target target, OpenFlow flow, bool reused)
    {
        var upstream = _upstream!;
        var ct = flow.Cancellation;
        var output = upstream.Pipe.Output;
        _responding = null;
        WriteRequestHead(output, head, target);
        if ((await output.FlushAsync(ct)).IsCompleted)
        {
            return Exchange.Failed(DialError.Unreachable, "the destination closed the connection", retry: reused && !head.HasBody);
        }

        var bodySent = !head.HasBody;
        var sendBody = head.HasBody;
        if (head.HasBody && head.ExpectContinue)
        {
            var first = await BodyOrAnswerFirstAsync(upstream.Pipe.Input, ct);
            if (first == FirstToArrive.Neither)
            {
                return Exchange.Failed(DialError.TimedOut, $"the destination did not answer within {_path.Limits.ResponseTimeout.TotalSeconds:0} s", retry: false);
            }

            // On the destination's answer first, the loop below sends the body after a 100, and not after a refusal.
            sendBody = first == FirstToArrive.Body;
        }

        if (sendBody)
        {
            var sent = await CopyRequestBodyAsync(head, output, flow, ct);
            if (sent is not CopyEnd.Done)
            {
                // The client's fault, not the destination's: 400.
                return sent == CopyEnd.Malformed
                    ? Exchange.Failed(DialError.None, "the request's chunked body is malformed", retry: false, respondWith: 400)
                    : Exchange.Failed(DialError.None, "the request body was cut short: the client sent less than it announced", retry: false, respondWith: 400);
            }

            bodySent = true;
        }

        while (true)
        {
            var response = _responseHead;
            var headEnd = await ReadResponseHeadAsync(upstream.Pipe.Input, response, ct);
            if (headEnd is not HeadStatus.Complete)
            {
                var retry = reused && headEnd == HeadStatus.Incomplete && !head.HasBody && !flow.Cancellation.IsCancellationRequested;
                return headEnd switch
                {
                    HeadStatus.Incomplete when _timedOut => Exchange.Failed(DialError.TimedOut, $"the destination did not answer within {_path.Limits.ResponseTimeout.TotalSeconds:0} s", retry: false),
                    HeadStatus.Incomplete => Exchange.Failed(DialError.Unreachable, "the destination closed the connection without answering", retry),
                    _ => Exchange.Failed(DialError.Unreachable, $"the destination's response is not valid HTTP/1.1: {response.Error ?? "head too large"}", retry: false),
                };
            }

            if (response.Status == 101)
            {
                // The edge never sends Upgrade on, so no client here asked for it; passed on, it would tell the client the
                // protocol had changed while the edge went on waiting for a final response.
                return Exchange.Failed(DialError.Unreachable, "the destination switched protocols (101), which the proxy does not carry; WebSockets go through CONNECT", retry: false);
            }

            if (response.Status is >= 100 and < 200)
            {
                // Interim responses (100 Continue, 103 Early Hints) go to the client as they are, the final one following;
                // an HTTP/1.0 client gets none (RFC 9110 section 15.2).
                if (head.IsHttp11)
                {
                    WriteResponseHead(response, closeClient: false);
                    await _out.FlushAsync(ct);
                }

                if (response.Status == 100 && !bodySent)
                {
                    var sent = await CopyRequestBodyAsync(head, output, flow, ct);
                    if (sent is not CopyEnd.Done)
                    {
                        return Exchange.Failed(DialError.Unreachable, "the request body was cut short", retry: false) with { ResponseStarted = true, Status = 100 };
                    }

                    bodySent = true;
                }

                continue;
            }

            var framing = response.Framing(head.IsHead);
            var closeClient = head.Close || framing == BodyFraming.UntilClose || !bodySent;
            _responding = response.Status;

            // An HTTP/1.0 client reads no chunks (RFC 9112 section 6.1): it gets the data, and the connection's end.
            var decode = framing == BodyFraming.Chunked && !head.IsHttp11;
            WriteResponseHead(response, closeClient, withoutTransferEncoding: decode);
            var copied = framing switch
            {
                BodyFraming.None => (CopyEnd.Done, 0L),
                BodyFraming.Length => await BodyCopier.CopyLengthAsync(upstream.Pipe.Input, _out, response.ContentLength, flow, up: false, ct),
                BodyFraming.Chunked => await BodyCopier.CopyChunkedAsync(upstream.Pipe.Input, _out, flow, up: false, ct, decode),
                _ => await BodyCopier.CopyToEndAsync(upstream.Pipe.Input, _out, flow, up: false, ct),
            };

            // The copiers flush what they write: by now the client may have the whole response and be gone, and
            // a flush of nothing would throw for its closed connection. A head without a body is still here.
            if (!_out.CanGetUnflushedBytes || _out.UnflushedBytes > 0)
            {
                await _out.FlushAsync(ct);
            }
            if (copied.Item1 is not CopyEnd.Done)
            {
                return Exchange.Failed(DialError.Unreachable, copied.Item1 switch
                {
                    CopyEnd.Malformed => "the destination's chunked body is malformed",
                    CopyEnd.ReceiverGone => "the client went away",
                    _ => "the destination closed the connection in the middle of the response",
                }, retry: false) with { ResponseStarted = true, Status = response.Status };
            }

            return new Exchange(response.Status, null, ResponseStarted: true, RetryOnFreshConnection: false,
                UpstreamReusable: !response.Close && framing != BodyFraming.UntilClose && bodySent,
                ClientReusable: !closeClient);
        }
    }

    private bool _timedOut;

    /// <summary>The status of the final response being sent to the client, once its head is written.</summary>
    private int? _responding;

    private async ValueTask<HeadStatus> ReadResponseHeadAsync(PipeReader input, ResponseHead response, CancellationToken flowToken)
    {
        _timedOut = false;
        if (_responseDeadline is null || !_responseDeadline.TryReset())
        {
            _responseDeadline?.Dispose();
            _responseDeadline = CancellationTokenSource.CreateLinkedTokenSource(flowToken);
        }

        _responseDeadline.CancelAfter(_path.Limits.ResponseTimeout);
        var deadline = _responseDeadline.Token;
        var searched = 0L;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await input.ReadAsync(deadline);
            }
            catch (OperationCanceledException) when (!flowToken.IsCancellationRequested)
            {
                _timedOut = true;
                return HeadStatus.Incomplete;
            }

            var buffer = read.Buffer;
            var status = response.TryRead(buffer, _path.Limits.MaxHeadBytes, ref searched, out var consumed);
            if (status == HeadStatus.Complete)
            {
                input.AdvanceTo(consumed);
                return status;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (status != HeadStatus.Incomplete || read.IsCompleted)
            {
                return status;
            }
        }
    }

    private enum FirstToArrive
    {
        Body,
        Answer,
        Neither,
    }

    /// <summary>
    /// For a request that asked for <c>100-continue</c>, whose head the destination has: waits for the client's body or
    /// the destination's answer, whichever comes first, taking nothing from either. A client need not wait for the
    /// 100 (curl sends the body after a second without one), and many servers read the body without sending one.
    /// </summary>
    private async ValueTask<FirstToArrive> BodyOrAnswerFirstAsync(PipeReader destination, CancellationToken flowToken)
    {
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(flowToken);
        waiting.CancelAfter(_path.Limits.ResponseTimeout);
        var body = HasDataAsync(_in, waiting.Token);
        var answer = HasDataAsync(destination, waiting.Token);
        var first = await Task.WhenAny(body, answer);
        await waiting.CancelAsync();
        await Task.WhenAll(body, answer);
        flowToken.ThrowIfCancellationRequested();
        if (!first.Result)
        {
            // Cut short by the deadline; the other may have had something by then.
            first = first == body ? answer : body;
        }

        return !first.Result ? FirstToArrive.Neither : first == body ? FirstToArrive.Body : FirstToArrive.Answer;
    }

    /// <summary>
    /// Whether <paramref name="reader"/> has bytes, or has ended, before <paramref name="ct"/> is cancelled. Nothing
    /// is consumed: the next read sees it all again.
    /// </summary>
    private static async Task<bool> HasDataAsync(PipeReader reader, CancellationToken ct)
    {
        try
        {
            var read = await reader.ReadAsync(ct);
            reader.AdvanceTo(read.Buffer.Start);
            return !read.Buffer.IsEmpty || read.IsCompleted;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private async ValueTask<CopyEnd> CopyRequestBodyAsync(RequestHead head, PipeWriter output, OpenFlow flow, CancellationToken ct)
    {
        var (end, _) = head.Chunked
            ? await BodyCopier.CopyChunkedAsync(_in, output, flow, up: true, ct)
            : await BodyCopier.CopyLengthAsync(_in, output, head.ContentLength, flow, up: true, ct);
        await output.FlushAsync(ct);
        return end;
    }

    private async ValueTask<bool> ContinuePastCautionAsync(RequestHead head, ProxyUser user, Target target, DateTimeOffset started)
    {
        var query = System.Web.HttpUtility.ParseQueryString(target.PathAndQuery.Contains('?', StringComparison.Ordinal) ? target.PathAndQuery[(target.PathAndQuery.IndexOf('?', StringComparison.Ordinal) + 1)..] : string.Empty);
        var url = query["url"];
        var token = query["token"];
        if (url is null || token is null || !Target.TryParseAbsolute(url, out var original, out _) || !_path.Cautions.TryAccept(user.Id, url, original.Host, token))
        {
            await RespondAsync(400, "Bad Request", ProxyPages.ErrorPage("Link expired", "This continue link is not valid for you or has expired. Open the site again.", null), close: head.HasBody);
            return !head.HasBody;
        }

        _path.Finish(Record(started, TransactionKinds.Http, TransactionActions.CautionContinued, original.Host, original.Port, user) with
        {
            Method = head.Method,
            Url = url,
            Status = 302,
            Reason = "the user chose to continue past the caution page",
        });
        await RespondAsync(302, "Found", string.Empty, close: head.Close, headers: [("Location", url), ("Cache-Control", "no-store")]);
        return true;
    }

    /// <summary>Records a refused CONNECT and answers it: a plain-text 403 with the rule, the reason and a reference.</summary>
    private async Task RefuseConnectAsync(TransactionLogRecord record, string action, string? rule, string reason)
    {
        var reference = DataPath.NewReferenceId();
        _path.Finish(record with { Action = action, Status = 403, Reason = reason, ReferenceId = reference });
        await RespondAsync(403, "Forbidden", $"{reason}\nrule: {rule}\nreference: {reference}\n", close: true, contentType: "text/plain; charset=utf-8", RefusalHeaders(rule, reason, reference));
    }

    /// <summary>Records a blocked request and answers it with the block page; whether the connection goes on.</summary>
    private async ValueTask<bool> BlockPageAsync(TransactionLogRecord record, string url, string? rule, string reason, bool keepAlive, long clock)
    {
        var reference = DataPath.NewReferenceId();
        _path.Finish(record with { Action = TransactionActions.Block, Status = 403, Reason = reason, ReferenceId = reference, DurationMs = Elapsed(clock) });
        await RespondAsync(403, "Forbidden", ProxyPages.BlockPage(url, rule, reason, reference), close: !keepAlive, headers: RefusalHeaders(rule, reason, reference));
        return keepAlive;
    }

    /// <summary>Answers an exchange that failed: a destination that could not be reached, or <paramref name="withStatus"/> (503 when no connector could carry it, 400 for a client's malformed body).</summary>
    private async Task FailAsync(TransactionLogRecord record, DialError error, string reason, long clock, int? withStatus = null)
    {
        var reference = DataPath.NewReferenceId();
        var (status, phrase, action) = (error, withStatus) switch
        {
            (_, 503) or (DialError.NoSocket, _) => (503, "Service Unavailable", TransactionActions.Error),
            (_, 400) => (400, "Bad Request", TransactionActions.Error),
            (DialError.Forbidden, _) => (403, "Forbidden", TransactionActions.Denied),
            (DialError.TimedOut, _) => (504, "Gateway Timeout", TransactionActions.Error),
            _ => (502, "Bad Gateway", TransactionActions.Error),
        };
        _path.Finish(record with { Action = action, Status = status, Reason = reason, ReferenceId = reference, DurationMs = Elapsed(clock) });
        var body = record.Kind == TransactionKinds.Flow
            ? $"{reason}\nreference: {reference}\n"
            : ProxyPages.ErrorPage(status switch { 400 => "Bad request", 403 => "Destination not allowed", _ => "Destination unreachable" }, reason, reference);
        await RespondAsync(status, phrase, body, close: true, contentType: record.Kind == TransactionKinds.Flow ? "text/plain; charset=utf-8" : "text/html; charset=utf-8", headers: RefusalHeaders(null, reason, reference));
    }

    private RefusalReason? Refusal(in Decision decision, ProxyUser user, string host) => decision.Action switch
    {
        PolicyAction.Block => RefusalReason.Blocked(decision),
        PolicyAction.Caution when !_path.Cautions.IsAccepted(user.Id, host) =>
            new RefusalReason(TransactionActions.Caution, $"rule {decision.RuleName} asks for care: open http://{host}/ in a browser through this proxy and continue there first"),
        _ => null,
    };

    // No Gatehouse-Rule header when no rule decided (egress safety, a bad request): an empty one read as a rule named "".
    private static (string, string)[] RefusalHeaders(string? rule, string reason, string reference) => rule is null
        ? [("Gatehouse-Reason", reason), ("Gatehouse-Reference", reference)]
        : [("Gatehouse-Rule", rule), ("Gatehouse-Reason", reason), ("Gatehouse-Reference", reference)];

    private FlowContext Context(ProxyUser user, Target target, IPAddress? address, FlowProtocol protocol, string? url, DateTimeOffset time) => new()
    {
        UserId = user.Id,
        UserEmail = user.Email,
        Network = NetworkKind.Unknown,
        Time = time,
        Host = target.IsAddress ? null : target.Host,
        Ip = address,
        Port = target.Port,
        Protocol = protocol,
        Url = url,
    };

    private TransactionLogRecord Record(DateTimeOffset started, string kind, string action, string host, int port, ProxyUser? user) =>
        new(started, TenantId, _path.EdgeId, kind, TransactionListeners.Proxy, action, _client, host, port, UserId: user?.Id, UserEmail: user?.Email);

    /// <summary>Where a request asks to go (the CONNECT authority or the absolute URL), if it parses.</summary>
    private static Target? RequestedTarget(RequestHead head) =>
        (head.IsConnect ? Target.TryParseAuthority(head.Target, 0, out var t) : Target.TryParseAbsolute(head.Target, out t, out _)) ? t : null;

    /// <summary>The URL of a plain-HTTP request, as the records and pages show it.</summary>
    private static string UrlOf(Target target) => $"http://{target.Authority}{target.PathAndQuery}";

    private static long Elapsed(long since) => (long)Stopwatch.GetElapsedTime(since).TotalMilliseconds;

    private static void WriteRequestHead(PipeWriter output, RequestHead head, Target target)
    {
        WriteAscii(output, head.Method);
        output.Write(" "u8);
        WriteAscii(output, target.PathAndQuery);
        output.Write(" HTTP/1.1\r\nHost: "u8);
        WriteAscii(output, target.Authority);
        output.Write("\r\n"u8);
        foreach (var (start, length) in head.PassLines)
        {
            output.Write(head.Raw.Slice(start, length));
            output.Write("\r\n"u8);
        }

        output.Write("\r\n"u8);
    }

    private static ReadOnlySpan<byte> TransferEncodingName => "Transfer-Encoding:"u8;

    private void WriteResponseHead(ResponseHead response, bool closeClient, bool withoutTransferEncoding = false)
    {
        _out.Write("HTTP/1.1 "u8);
        _out.Write(response.Raw[response.StatusOffset..response.StatusLineEnd]);
        _out.Write("\r\n"u8);
        foreach (var (start, length) in response.PassLines)
        {
            var line = response.Raw.Slice(start, length);
            if (withoutTransferEncoding && line.Length > TransferEncodingName.Length && System.Text.Ascii.EqualsIgnoreCase(line[..TransferEncodingName.Length], TransferEncodingName))
            {
                continue;
            }

            _out.Write(line);
            _out.Write("\r\n"u8);
        }

        if (closeClient)
        {
            _out.Write("Connection: close\r\n"u8);
        }

        _out.Write("\r\n"u8);
    }

    private async ValueTask RespondAsync(int status, string phrase, string body, bool close, params (string Name, string Value)[] headers) =>
        await RespondAsync(status, phrase, body, close, "text/html; charset=utf-8", headers);

    private async ValueTask RespondAsync(int status, string phrase, string body, bool close, string contentType, (string Name, string Value)[]? headers = null, int? declaredLength = null)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            var head = ProxyPages.ResponseHead(status, phrase, contentType, declaredLength ?? bytes.Length, headers, close);
            WriteAscii(_out, head);
            _out.Write(bytes);
            await _out.FlushAsync();
        }
        catch (Exception e) when (Relay.IsEndOfFlow(e))
        {
            // The client is gone; nothing to tell it.
        }
    }

    private static void WriteAscii(PipeWriter output, string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        var written = Encoding.UTF8.GetBytes(text, span);
        output.Advance(written);
    }

    /// <summary>Why an exchange failed; <paramref name="RespondWith"/> is the status to answer with when it is not the dial error's.</summary>
    private readonly record struct DialFailure(DialError Error, string Reason, int? RespondWith = null);

    private readonly record struct Exchange(int Status, DialFailure? Failure, bool ResponseStarted, bool RetryOnFreshConnection, bool UpstreamReusable, bool ClientReusable)
    {
        public static Exchange Failed(DialError error, string reason, bool retry, int? respondWith = null) =>
            new(0, new DialFailure(error, reason, respondWith), ResponseStarted: false, retry, false, false);
    }

    /// <summary>The kept-alive connection to the destination of the last request.</summary>
    /// <remarks>
    /// A private app's upstream is a flow through a connector (<paramref name="segment"/> set, no address); it is
    /// reused only for the same segment, so a destination that a new bundle puts in a segment, or takes out of
    /// one, never goes on over the connection of its other kind.
    /// </remarks>
    private sealed class Upstream(Target target, string? segment, IPAddress? address, IDuplexPipe pipe, string? via) : IAsyncDisposable
    {
        public IPAddress? Address { get; } = address;

        public IDuplexPipe Pipe { get; } = pipe;

        /// <summary>What carries it, for the record: "app segment S through connector C"; null for a direct connection.</summary>
        public string? Via { get; } = via;

        public bool Matches(Target other, string? otherSegment) =>
            other.Port == target.Port && string.Equals(other.Host, target.Host, StringComparison.OrdinalIgnoreCase) && string.Equals(segment, otherSegment, StringComparison.Ordinal);

        /// <summary>
        /// Whether the destination sent bytes after its last response, before any request asked (or closed): they
        /// would be read as the next request's response, which RFC 9112 section 6.3 forbids, so it is not reused.
        /// </summary>
        public bool SentUnasked()
        {
            if (!Pipe.Input.TryRead(out var read))
            {
                return false;
            }

            Pipe.Input.AdvanceTo(read.Buffer.Start);
            return !read.Buffer.IsEmpty || read.IsCompleted;
        }

        public ValueTask DisposeAsync() => ((IAsyncDisposable)Pipe).DisposeAsync();
    }

    /// <summary>A flow through a connector as a duplex pipe; disposing it ends the flow.</summary>
    private sealed class BrokeredPipe : IDuplexPipe, IAsyncDisposable
    {
        private readonly BrokeredFlow _flow;

        public BrokeredPipe(BrokeredFlow flow)
        {
            _flow = flow;
            Input = PipeReader.Create(flow.Stream!, new StreamPipeReaderOptions(bufferSize: 64 * 1024, leaveOpen: true));
            Output = PipeWriter.Create(flow.Stream!, new StreamPipeWriterOptions(leaveOpen: true));
        }

        public PipeReader Input { get; }

        public PipeWriter Output { get; }

        public async ValueTask DisposeAsync()
        {
            await Input.CompleteAsync();
            await Output.CompleteAsync();
            _flow.Dispose();
        }
    }
}
