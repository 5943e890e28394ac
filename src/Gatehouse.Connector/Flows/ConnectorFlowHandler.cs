using System.IO.Pipelines;
using Gatehouse.Connector.Config;
using Gatehouse.Connector.Health;
using Gatehouse.Connector.Links;
using Gatehouse.Flows;
using Gatehouse.Policy.Decisions;
using Gatehouse.Wire.Tunnel;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Gatehouse.Connector.Flows;

/// <summary>
/// What an edge asks of the connector over a link: its status, and private flows.
/// </summary>
/// <remarks>
/// <code>
/// GET  /.well-known/gatehouse/connector/status ─► ConnectorStatusReport (load, links, servers' health)
/// POST /.well-known/masque/tcp/{host}/{port}/ ─► in a served app segment? (else 403: the connector never goes elsewhere)
///   ─► resolve inside the private network ─► drop addresses whose health check fails (all down: 503)
///   ─► egress guard ─► dial ─► 200 ─► relay (end of request body = half-close towards the app;
///      a stream reset or a cut flow = a reset of the app's connection and of the stream)
///   with a relay ticket: ─► 200 gatehouse-relay: accepted ─► RelayedFlowEnd dials the edge, TLS with the device
/// </code>
/// </remarks>
internal sealed class ConnectorFlowHandler
{
    private readonly Func<ConnectorConfig> _config;
    private readonly FlowDialer _dialer;
    private readonly FlowRegistry _flows;
    private readonly ServerHealth _health;
    private readonly EdgeDialer _links;
    private readonly RelayedFlowEnd _relays;
    private readonly string _connectorId;
    private readonly ILogger _logger;

    public ConnectorFlowHandler(Func<ConnectorConfig> config, FlowDialer dialer, FlowRegistry flows, ServerHealth health, EdgeDialer links, RelayedFlowEnd relays, string connectorId, ILogger logger)
    {
        _relays = relays;
        _config = config;
        _dialer = dialer;
        _flows = flows;
        _health = health;
        _links = links;
        _connectorId = connectorId;
        _logger = logger;
    }

    /// <summary>The program version reported in the status.</summary>
    public static string Version { get; } = typeof(ConnectorFlowHandler).Assembly.GetName().Version?.ToString() ?? "0";

    public ConnectorStatusReport Status() => new(_connectorId, Version, _flows.Count, _health.Results, _links.Linked);

    public async Task HandleAsync(HttpContext context)
    {
        var rawTarget = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? string.Empty;
        if (HttpMethods.IsGet(context.Request.Method) && rawTarget == ConnectorProtocol.StatusPath)
        {
            await context.Response.WriteAsJsonAsync(Status(), context.RequestAborted);
            return;
        }

        if (!HttpMethods.IsPost(context.Request.Method))
        {
            await RefuseAsync(context, 405, "a private flow is a POST");
            return;
        }

        if (!TunnelProtocol.TryParsePath(rawTarget, out var host, out var port, out var isAddress))
        {
            await RefuseAsync(context, 404, $"a flow's path is {TunnelProtocol.PathPrefix}HOST/PORT/");
            return;
        }

        var segment = context.Request.Headers[ConnectorProtocol.SegmentHeader].ToString();
        var served = _config().Segments.AppSegmentOf(new FlowContext
        {
            Host = isAddress ? null : host,
            Ip = isAddress && FlowDialer.TryParseAddress(host, out var literal) ? literal : null,
            Port = port,
        });
        if (served is null)
        {
            FlowLog.NotServed(_logger, host, port, segment);
            await RefuseAsync(context, 403, $"{host}:{port} is in no app segment this connector serves");
            return;
        }

        using var flow = _flows.Open(context.RequestAborted);
        var resolution = await _dialer.ResolveAsync(host, flow.Cancellation);
        if (resolution.Error != DialError.None)
        {
            await RefuseAsync(context, resolution.Error == DialError.TimedOut ? 504 : 502, resolution.Reason!);
            return;
        }

        var healthy = resolution.Addresses.Where(a => !_health.IsDown(a, port)).ToArray();
        if (healthy.Length == 0)
        {
            FlowLog.AllDown(_logger, host, port, served);
            await RefuseAsync(context, 503, $"every server of {host}:{port} fails its health check");
            return;
        }

        var connection = await _dialer.ConnectAsync(healthy, port, flow.Cancellation);
        if (connection.Error != DialError.None)
        {
            await RefuseAsync(context, connection.Error switch { DialError.Forbidden => 403, DialError.TimedOut => 504, DialError.NoSocket => 503, _ => 502 }, connection.Reason!);
            return;
        }

        FlowLog.Opened(_logger, host, port, connection.Address!.ToString(), served, context.Request.Headers[ConnectorProtocol.UserHeader].ToString());
        var app = new SocketPipe(connection.Socket!);
        if (RelayAsked(context, out var edge, out var ticket, out var fingerprint))
        {
            // The app is reached: the edge tells the device, and this connector meets it at the edge with the ticket.
            context.Response.StatusCode = 200;
            context.Response.Headers[RelayProtocol.RelayHeader] = RelayProtocol.Accepted;
            _relays.Start(edge, ticket, fingerprint, app, $"{host}:{port}");
            return;
        }

        await using var destination = app;

        // A flow lives as long as its TCP connection: no body size limit, no minimum data rate.
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        context.Response.StatusCode = 200;
        await context.Response.StartAsync(flow.Cancellation);
        await context.Response.BodyWriter.FlushAsync(flow.Cancellation);
        var body = new BodyPipe(context.Request.BodyReader, context.Response.BodyWriter);
        // A flow cut at the device's end (the edge reset the stream, the link dropped), here (idle, drain) or by the app
        // ends with a reset of the app's connection: the relay sees to it.
        await Relay.RunAsync(body, destination, flow, () => body.Output.Complete());

        if (flow.Cancellation.IsCancellationRequested)
        {
            // Cut on one side: reset the stream, as TCP would be reset.
            context.Abort();
        }
    }

    /// <summary>Whether the edge asks for the flow relayed: a valid ticket, the device's fingerprint, and a link that knows its edge.</summary>
    private static bool RelayAsked(HttpContext context, out LinkedEdge edge, out byte[] ticket, out string fingerprint)
    {
        edge = null!;
        fingerprint = context.Request.Headers[RelayProtocol.DeviceFingerprintHeader].ToString();
        if (!RelayProtocol.TryDecodeTicket(context.Request.Headers[RelayProtocol.TicketHeader].ToString(), out ticket)
            || fingerprint.Length != 64
            || context.Features.Get<LinkedEdge>() is not { } known)
        {
            return false;
        }

        edge = known;
        return true;
    }

    private static async Task RefuseAsync(HttpContext context, int status, string reason)
    {
        context.Response.StatusCode = status;
        context.Response.Headers[TunnelProtocol.ReasonHeader] = reason.Replace('\r', ' ').Replace('\n', ' ');
        context.Response.ContentType = "text/plain; charset=utf-8";
        try
        {
            await context.Response.WriteAsync(reason + "\n", context.RequestAborted);
        }
        catch (Exception e) when (Relay.IsEndOfFlow(e))
        {
            // The edge gave up on the stream.
        }
    }

    /// <summary>The request body (edge → app) and response body (back) of a flow.</summary>
    private sealed class BodyPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}

/// <summary>Log events of the connector's flows (6050–6099).</summary>
internal static partial class FlowLog
{
    [LoggerMessage(6050, LogLevel.Debug, "Flow to {Host}:{Port} ({Address}, app segment {Segment}) for user {User}")]
    public static partial void Opened(ILogger logger, string host, int port, string address, string segment, string user);

    [LoggerMessage(6051, LogLevel.Warning, "Refused a flow to {Host}:{Port} (edge said app segment {Segment}): in no segment this connector serves")]
    public static partial void NotServed(ILogger logger, string host, int port, string segment);

    [LoggerMessage(6052, LogLevel.Warning, "Refused a flow to {Host}:{Port} (app segment {Segment}): every server fails its health check")]
    public static partial void AllDown(ILogger logger, string host, int port, string segment);

    [LoggerMessage(6053, LogLevel.Warning, "The relayed flow to {What} could not meet its device at edge {Edge}: {Reason}")]
    public static partial void RelayFailed(ILogger logger, string what, string edge, string reason);
}
