using System.Diagnostics;
using System.IO.Pipelines;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Private;
using Gatehouse.Flows;
using Gatehouse.Policy.Decisions;
using Gatehouse.Trust.Certificates;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Tunnel;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Gatehouse.Edge.Tunnel;

/// <summary>
/// One agent flow on one HTTP/2 stream of the tunnel listener.
/// </summary>
/// <remarks>
/// <code>
/// client certificate (checked in the TLS handshake) ─► checked again: a revocation in a newer bundle stops new streams
///   ─► device → user (bundle devices) ─► CONNECT :protocol connect-tcp | POST, path /.well-known/masque/tcp/{host}/{port}/
///   ─► resolve ─► decide(user, posture, network, host, ip, port) ─► egress ─► dial
///   ─► 200 ─► relay (POST: end of request body = half-close towards the destination)
/// refusals: 403 with gatehouse-rule (when a rule decided), gatehouse-reason, gatehouse-reference (and 400/404/405/414
/// for malformed requests); failures: 502/504; one record per stream
/// </code>
/// </remarks>
internal sealed class TunnelHandler
{
    private readonly DataPath _path;

    public TunnelHandler(DataPath path) => _path = path;

    public async Task HandleAsync(HttpContext context)
    {
        var started = _path.Time.GetUtcNow();
        var clock = Stopwatch.GetTimestamp();
        var client = $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}";
        var identities = _path.Policy.Identities;
        // No method until the flow's first request shows one: the stream's own (POST, CONNECT) is the tunnel's, not the user's.
        var record = new TransactionLogRecord(started, _path.TenantId, _path.EdgeId, TransactionKinds.Flow, TransactionListeners.Tunnel, TransactionActions.Denied, client, string.Empty, 0);

        if (!identities.Trust.Validate(context.Connection.ClientCertificate, started, out var identity, out var why))
        {
            await RefuseAsync(context, record, 403, TransactionActions.Denied, null, why);
            return;
        }

        record = record with { DeviceId = identity.SubjectId };
        if (identity.Kind != IdentityKinds.Device || !identities.TryGetDeviceUser(identity.SubjectId, out var userId))
        {
            await RefuseAsync(context, record, 403, TransactionActions.Denied, null, $"{identity.Kind} {identity.SubjectId} is not an active device of this tenant");
            return;
        }

        var extended = context.Features.Get<IHttpExtendedConnectFeature>();
        var isConnect = extended is { IsExtendedConnect: true };
        if (isConnect && extended!.Protocol != TunnelProtocol.ConnectProtocol)
        {
            await RefuseAsync(context, record, 400, TransactionActions.Denied, null, $"the only tunnel protocol is {TunnelProtocol.ConnectProtocol}");
            return;
        }

        if (!isConnect && !HttpMethods.IsPost(context.Request.Method))
        {
            await RefuseAsync(context, record, 405, TransactionActions.Denied, null, "flows are extended CONNECT (connect-tcp) or POST");
            return;
        }

        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? string.Empty;
        if (rawTarget.Length > TunnelProtocol.MaxPathLength)
        {
            await RefuseAsync(context, record, 414, TransactionActions.Denied, null, $"a flow's path is at most {TunnelProtocol.MaxPathLength} characters: {TunnelProtocol.PathPrefix}HOST/PORT/");
            return;
        }

        if (!TunnelProtocol.TryParsePath(rawTarget, out var host, out var port, out var isAddress))
        {
            await RefuseAsync(context, record, 404, TransactionActions.Denied, null, $"a flow's path is {TunnelProtocol.PathPrefix}HOST/PORT/");
            return;
        }

        if (!TryReadMetadata(context.Request.Headers, out var network, out var posture, out var badHeader))
        {
            await RefuseAsync(context, record with { Host = host, Port = port }, 400, TransactionActions.Denied, null, badHeader);
            return;
        }

        (string Id, string? Email)? user = userId is null ? null : (userId, identities.Users.GetValueOrDefault(userId));
        record = record with { Host = host, Port = port, UserId = user?.Id, UserEmail = user?.Email };

        using var flow = _path.Flows.Open(context.RequestAborted);
        flow.Subject = identity.SubjectId;

        // A destination in an app segment is a private app: the access policy decides and a connector carries it.
        var apps = _path.Policy.Private;
        var privateTarget = new FlowContext
        {
            UserId = user?.Id,
            Posture = posture,
            Network = network,
            Time = started,
            Host = isAddress ? null : host,
            Ip = isAddress && FlowDialer.TryParseAddress(host, out var literal) ? literal : null,
            Port = port,
            Protocol = FlowProtocol.Tcp,
        };
        if (apps.Access.AppSegmentOf(privateTarget) is { } segment)
        {
            // The connector is told whose flow it carries (for its log); the decision was the edge's.
            var metadata = new TunnelFlowMetadata(UserId: user?.Id, DeviceId: identity.SubjectId);
            await BrokerAsync(context, record, flow, apps, segment, privateTarget, metadata, isConnect ? extended : null, clock);
            return;
        }

        var resolution = await _path.Dialer.ResolveAsync(host, flow.Cancellation);
        var policy = _path.Policy.Holder.Current;
        var decided = privateTarget with { Ip = resolution.First };
        var decision = policy.Decide(decided);
        record = record with { DestinationIp = resolution.First?.ToString(), Rule = decision.RuleName, Category = decision.Category, Action = TransactionActions.Allow };

        if (Refusal(decision, userId, host) is { } refusal)
        {
            await RefuseAsync(context, record, 403, refusal.Action, decision.RuleName, refusal.Reason);
            return;
        }

        if (decision.Action == PolicyAction.Caution)
        {
            record = record with { Action = TransactionActions.CautionContinued };
        }

        if (resolution.Error != DialError.None)
        {
            await FailAsync(context, record, resolution.Error, resolution.Reason!);
            return;
        }

        var connection = await _path.Dialer.ConnectAsync(DecidedAddresses.Of(policy, decided, decision, resolution.Addresses), port, flow.Cancellation);
        record = record with { DestinationIp = connection.Address?.ToString() ?? record.DestinationIp };
        if (connection.Error != DialError.None)
        {
            await FailAsync(context, record, connection.Error, connection.Reason!);
            return;
        }

        await using var destination = new SocketPipe(connection.Socket!);
        var firstRequest = new FirstRequestCheck(
            host,
            request => policy.Decide(decided with { Host = request.Host ?? decided.Host, Protocol = request.Protocol, Url = request.Url }),
            (decision, name) => Refusal(decision, userId, name));
        var bytes = await RelayAsync(context, (client, clientDone) => Relay.RunAsync(client, destination, flow, clientDone, firstRequest.Inspect), flow, isConnect ? extended : null);

        record = firstRequest.Applied(record);
        _path.Finish(DataPath.WithEnding(record, flow) with { Status = 200, BytesUp = bytes.Up, BytesDown = bytes.Down, DurationMs = (long)Stopwatch.GetElapsedTime(clock).TotalMilliseconds });
    }

    /// <summary>
    /// A flow to a private app: allowed only by a rule of the access policy (no rule, no access), then carried
    /// by a connector that serves the segment.
    /// </summary>
    private async Task BrokerAsync(HttpContext context, TransactionLogRecord record, OpenFlow flow, PrivateAccess apps, string segment, FlowContext target, TunnelFlowMetadata metadata, IHttpExtendedConnectFeature? extended, long clock)
    {
        var decision = apps.Decide(target, segment, record.UserEmail ?? record.DeviceId ?? "this device", out var refusal);
        record = record with { Rule = decision.RuleName, Category = null, DestinationIp = target.Ip?.ToString(), Action = TransactionActions.Allow };
        if (refusal is not null)
        {
            await RefuseAsync(context, record, 403, TransactionActions.Block, decision.RuleName, refusal);
            return;
        }

        // A device that can take it gets the flow relayed end to end: one TLS session with the connector through this edge.
        PendingRelay? relay = null;
        if (_path.Relays is { } relays && extended is null && context.Request.Headers[RelayProtocol.RelayHeader] == RelayProtocol.Offer && context.Connection.ClientCertificate is { } device)
        {
            // The relayed flow outlives this stream: a flow of its own, cut like the device's others when it is revoked.
            var relayed = _path.Flows.Open();
            relayed.Subject = flow.Subject;
            relay = relays.Issue(relayed);
            metadata = metadata with { RelayTicket = relay.Key, DeviceFingerprint = RelayProtocol.Fingerprint(device) };
        }

        var brokered = await _path.Connectors.OpenAsync(segment, target.Host ?? target.Ip!.ToString(), target.Port, metadata, flow.Cancellation);
        var via = brokered.Via(segment);
        if (brokered.Relayed && relay is not null)
        {
            relay.Flow.Connector = brokered.Connector?.Id;
            await HandOverAsync(context, record with { Reason = $"{via}, relayed end to end" }, relay, brokered, clock);
            return;
        }

        if (relay is not null)
        {
            relay.Cancel("the connector did not take the relay");
            relay.Flow.Dispose();
        }

        using var streamed = brokered;
        if (brokered.Stream is not { } stream)
        {
            await RefuseAsync(context, record with { Reason = via }, brokered.Status == 503 ? 503 : 502, TransactionActions.Error, decision.RuleName, brokered.Reason ?? via);
            return;
        }

        var bytes = await RelayAsync(context, (client, clientDone) => Relay.RunAsync(client, stream, flow, stream.CompleteWrites, clientDone, stream.Reset), flow, extended);

        _path.Finish(DataPath.WithEnding(record with { Reason = via }, flow) with { Status = 200, BytesUp = bytes.Up, BytesDown = bytes.Down, DurationMs = (long)Stopwatch.GetElapsedTime(clock).TotalMilliseconds });
    }

    /// <summary>
    /// A connector took the flow's ticket: the device gets it with the connector's id, the stream ends, and the flow
    /// lives on as the relay's two connections. Its record is written when the relay ends.
    /// </summary>
    private async Task HandOverAsync(HttpContext context, TransactionLogRecord record, PendingRelay relay, BrokeredFlow brokered, long clock)
    {
        context.Response.StatusCode = 200;
        context.Response.Headers[RelayProtocol.TicketHeader] = relay.Key;
        context.Response.Headers[RelayProtocol.ConnectorHeader] = brokered.Connector!.Id;
        try
        {
            await context.Response.CompleteAsync();
        }
        catch (Exception e) when (Relay.IsEndOfFlow(e))
        {
            relay.Cancel("the device gave up on the flow before it got the ticket");
        }

        _ = FinishRelayedAsync(record, relay, brokered, clock);
    }

    private async Task FinishRelayedAsync(TransactionLogRecord record, PendingRelay relay, BrokeredFlow brokered, long clock)
    {
        using var flow = relay.Flow;
        var outcome = await relay.Outcome;
        brokered.RelayEnded();
        record = record with { BytesUp = outcome.Up, BytesDown = outcome.Down, DurationMs = (long)Stopwatch.GetElapsedTime(clock).TotalMilliseconds };
        _path.Finish(outcome.Paired
            ? DataPath.WithEnding(record, flow) with { Status = 200 }
            : record with { Status = 502, Action = TransactionActions.Error, Reason = $"{record.Reason}: relay not paired: {outcome.Reason}" });
    }

    /// <summary>
    /// Answers 200 and relays the stream (extended CONNECT) or the bodies (POST) with the destination:
    /// <paramref name="relay"/> runs it, given the agent's side and what ends that side's sending.
    /// </summary>
    private static async Task<RelayBytes> RelayAsync(HttpContext context, Func<IDuplexPipe, Action, Task<RelayBytes>> relay, OpenFlow flow, IHttpExtendedConnectFeature? extended)
    {
        RelayBytes bytes;
        if (extended is not null)
        {
            var stream = await extended.AcceptAsync();
            // An extended CONNECT stream has no half-close of its own; the stream ends when the flow does.
            await using var clientPipe = new StreamPipe(stream, waitWithoutBuffer: false);
            bytes = await relay(clientPipe, clientPipe.CompleteOutput);
        }
        else
        {
            // A flow lives as long as its TCP connection: no body size limit, no minimum data rate.
            context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
            if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
            {
                rate.MinDataRate = null;
            }

            context.Response.StatusCode = 200;
            // Kestrel holds the headers of a started response until the first flush; the agent waits for the
            // 200 before it sends a byte, so the headers go now.
            await context.Response.StartAsync(flow.Cancellation);
            await context.Response.BodyWriter.FlushAsync(flow.Cancellation);
            var body = new BodyDuplexPipe(context.Request.BodyReader, context.Response.BodyWriter);
            bytes = await relay(body, body.CompleteOutput);
        }

        if (flow.Cancellation.IsCancellationRequested)
        {
            // Cut (a reset on one side, idle, revoked, drained): reset the stream as TCP would be reset, or
            // the agent reads on until HTTP/2 gives up on the half-finished stream.
            context.Abort();
        }

        return bytes;
    }

    private static bool TryReadMetadata(IHeaderDictionary headers, out NetworkKind network, out string[] posture, out string error)
    {
        network = NetworkKind.Unknown;
        posture = [];
        error = string.Empty;
        var networkText = headers[TunnelProtocol.NetworkHeader].ToString();
        switch (networkText)
        {
            case "":
                break;
            case "trusted":
                network = NetworkKind.Trusted;
                break;
            case "untrusted":
                network = NetworkKind.Untrusted;
                break;
            case "vpn":
                network = NetworkKind.Vpn;
                break;
            default:
                error = $"{TunnelProtocol.NetworkHeader} must be trusted, untrusted or vpn";
                return false;
        }

        var postureText = headers[TunnelProtocol.PostureHeader].ToString();
        if (postureText.Length > 0)
        {
            posture = postureText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (posture.Length > TunnelProtocol.MaxPostureChecks || !AreTokens(posture))
            {
                error = $"{TunnelProtocol.PostureHeader} must be at most {TunnelProtocol.MaxPostureChecks} comma-separated checks of [A-Za-z0-9._:-]";
                return false;
            }
        }

        var flowId = headers[TunnelProtocol.FlowIdHeader].ToString();
        if (flowId.Length > 0 && !TunnelProtocol.IsToken(flowId))
        {
            error = $"{TunnelProtocol.FlowIdHeader} must be 1 to {TunnelProtocol.MaxTokenLength} of [A-Za-z0-9._:-]";
            return false;
        }

        return true;
    }

    private static bool AreTokens(string[] values)
    {
        foreach (var value in values)
        {
            if (!TunnelProtocol.IsToken(value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Why <paramref name="decision"/> stops a flow to <paramref name="host"/>, or null when it lets it go on.</summary>
    private RefusalReason? Refusal(in Decision decision, string? userId, string host) => decision.Action switch
    {
        PolicyAction.Block => RefusalReason.Blocked(decision),
        PolicyAction.Caution when userId is null || !_path.Cautions.IsAccepted(userId, host) =>
            new RefusalReason(TransactionActions.Caution, $"rule {decision.RuleName} asks for care: open http://{host}/ in a browser first"),
        _ => null,
    };

    private async Task FailAsync(HttpContext context, TransactionLogRecord record, DialError error, string reason)
    {
        var (status, action) = error switch
        {
            DialError.Forbidden => (403, TransactionActions.Denied),
            DialError.TimedOut => (504, TransactionActions.Error),
            DialError.NoSocket => (503, TransactionActions.Error),
            _ => (502, TransactionActions.Error),
        };
        await RefuseAsync(context, record, status, action, null, reason);
    }

    private async Task RefuseAsync(HttpContext context, TransactionLogRecord record, int status, string action, string? rule, string reason)
    {
        var reference = DataPath.NewReferenceId();
        _path.Finish(record with { Action = action, Status = status, Rule = rule ?? record.Rule, Reason = reason, ReferenceId = reference });
        context.Response.StatusCode = status;
        if (rule is not null)
        {
            // None when no rule decided (who may connect, egress safety, a bad request): an empty one reads as a rule named "".
            context.Response.Headers[TunnelProtocol.RuleHeader] = rule;
        }

        context.Response.Headers[TunnelProtocol.ReasonHeader] = reason.Replace('\r', ' ').Replace('\n', ' ');
        context.Response.Headers[TunnelProtocol.ReferenceHeader] = reference;
        context.Response.ContentType = "text/plain; charset=utf-8";
        try
        {
            await context.Response.WriteAsync($"{reason}\nrule: {rule}\nreference: {reference}\n");
        }
        catch (Exception e) when (Relay.IsEndOfFlow(e))
        {
            // The agent gave up on the stream.
        }
    }

    /// <summary>The request body (client → destination) and response body (back) of a POST flow.</summary>
    private sealed class BodyDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;

        // Completing the response body ends the response stream (END_STREAM) while the request body may go on.
        public void CompleteOutput() => Output.Complete();
    }
}
