using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Edge.Policies;
using Gatehouse.Trust.Certificates;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Tunnel;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Gatehouse.Edge.Private;

/// <summary>A flow the edge opened to a private app through a connector, or why it could not.</summary>
internal sealed class BrokeredFlow : IDisposable
{
    private readonly ConnectorLink? _link;
    private int _disposed;

    public BrokeredFlow(HalfCloseStream? stream, KnownConnector? connector, ConnectorLink? link, int status, string? reason)
    {
        Stream = stream;
        Connector = connector;
        _link = link;
        Status = status;
        Reason = reason;
    }

    /// <summary>The flow (half-close by <see cref="HalfCloseStream.CompleteWrites"/>); null when refused or relayed.</summary>
    public HalfCloseStream? Stream { get; }

    /// <summary>Whether the connector took the flow's relay ticket: it dials this edge, and the flow counts on its link until <see cref="RelayEnded"/>.</summary>
    public bool Relayed => Stream is null && Status == 200;

    /// <summary>The connector that carries it (or refused it last).</summary>
    public KnownConnector? Connector { get; }

    /// <summary>200, or the HTTP status of the refusal (503 when no connector could be reached).</summary>
    public int Status { get; }

    /// <summary>Why it was refused.</summary>
    public string? Reason { get; }

    /// <summary>What carries a flow to <paramref name="segment"/>, for the record: "app segment S through connector C".</summary>
    public string Via(string segment) => $"app segment {segment}" + (Connector is { } c ? $" through connector {c.Name}" : string.Empty);

    /// <summary>Takes a relayed flow off its link's count, once its relay has ended.</summary>
    public void RelayEnded()
    {
        if (Relayed && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _link?.FlowClosed();
        }
    }

    /// <summary>Ends a streamed flow and takes it off its link's count (a relayed flow leaves with <see cref="RelayEnded"/>).</summary>
    public void Dispose()
    {
        if (Stream is not null && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Stream.Dispose();
            _link?.FlowClosed();
        }
    }
}

/// <summary>
/// The connectors linked to this edge. A connection on the tunnel listener that negotiated
/// <see cref="ConnectorProtocol.ApplicationProtocol"/> becomes a link once its certificate names a connector
/// of the bundle; a private flow goes to the least loaded live link of a connector that serves its segment
/// (fewest open flows, then the shortest round trip), and to the next one when that one cannot carry it.
/// </summary>
internal sealed class ConnectorLinks : IAsyncDisposable
{
    /// <summary>How many links a flow tries before it is refused.</summary>
    public const int MaxAttempts = 3;

    private readonly EdgePolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ConnectorLink, byte> _links = new();
    private readonly CancellationTokenSource _stopping = new();

    // Taken once: a link that arrives while the edge stops still reads it after the source is disposed, and ends at once.
    private readonly CancellationToken _stoppingToken;
    private int _disposed;

    public ConnectorLinks(EdgePolicy policy, TimeProvider time, ILogger logger)
    {
        _policy = policy;
        _time = time;
        _logger = logger;
        _stoppingToken = _stopping.Token;
    }

    /// <summary>The live links now.</summary>
    public IReadOnlyList<ConnectorLink> Live => [.. _links.Keys.Where(l => l.Alive)];

    /// <summary>
    /// Connection middleware after TLS on the tunnel listener: a connector's connection is held here as a link
    /// until it ends; an agent's goes on to HTTP/2.
    /// </summary>
    public async Task ServeAsync(ConnectionDelegate next, ConnectionContext connection)
    {
        var protocol = connection.Features.Get<ITlsApplicationProtocolFeature>()?.ApplicationProtocol;
        if (protocol is null || !protocol.Value.Span.SequenceEqual(System.Text.Encoding.ASCII.GetBytes(ConnectorProtocol.ApplicationProtocol)))
        {
            await next(connection);
            return;
        }

        var remote = connection.RemoteEndPoint?.ToString() ?? "unknown";
        var certificate = connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;
        if (!Admits(certificate, out var connectorId, out var why))
        {
            PrivateLog.LinkRefused(_logger, remote, why);
            return;
        }

        using var link = new ConnectorLink(connectorId, connection, _time);
        _links.TryAdd(link, 0);
        PrivateLog.LinkUp(_logger, connectorId, remote);
        try
        {
            await link.RunAsync(_stoppingToken);
        }
        finally
        {
            _links.TryRemove(link, out _);
            PrivateLog.LinkDown(_logger, connectorId, remote);
        }
    }

    private bool Admits(X509Certificate2? certificate, out string connectorId, out string why)
    {
        connectorId = string.Empty;
        var identities = _policy.Identities;
        if (!identities.Trust.Validate(certificate, _time.GetUtcNow(), out var identity, out why))
        {
            return false;
        }

        if (identity.Kind != IdentityKinds.Connector || !_policy.Private.Connectors.ContainsKey(identity.SubjectId))
        {
            why = $"{identity.Kind} {identity.SubjectId} is not an active connector of this tenant";
            return false;
        }

        connectorId = identity.SubjectId;
        return true;
    }

    /// <summary>Closes the links of connectors the bundle in force no longer lists (revoked or deleted); returns how many.</summary>
    public int CloseUnknown()
    {
        var known = _policy.Private.Connectors;
        var closed = 0;
        foreach (var link in _links.Keys)
        {
            if (!known.ContainsKey(link.ConnectorId))
            {
                link.Close($"connector {link.ConnectorId} is no longer an active connector of this tenant");
                closed++;
            }
        }

        return closed;
    }

    /// <summary>Opens <paramref name="host"/>:<paramref name="port"/> of <paramref name="segment"/> through a connector that serves it.</summary>
    public async Task<BrokeredFlow> OpenAsync(string segment, string host, int port, TunnelFlowMetadata metadata, CancellationToken ct)
    {
        var apps = _policy.Private;
        var tried = new List<ConnectorLink>();
        BrokeredFlow? last = null;
        while (tried.Count < MaxAttempts && Pick(apps, segment, port, tried) is { } link)
        {
            tried.Add(link);
            var connector = apps.Connectors.GetValueOrDefault(link.ConnectorId);
            link.FlowOpened();
            var opened = await link.Flows.OpenAsync(host, port, metadata with { Segment = segment }, TunnelFlowForm.Post, ct);
            if (opened.IsOpen || opened.RelayAccepted)
            {
                return new BrokeredFlow((HalfCloseStream?)opened.Stream, connector, link, 200, null);
            }

            link.FlowClosed();
            last = new BrokeredFlow(null, connector, null, opened.EdgeUnreachable ? 503 : opened.Status, opened.EdgeUnreachable
                ? $"connector {connector?.Name ?? link.ConnectorId} could not be reached: {opened.Reason}"
                : $"connector {connector?.Name ?? link.ConnectorId}: {opened.Reason}");

            // A refusal by the connector (the app is down, refused, unknown) is its answer; only a lost link tries another.
            if (!opened.EdgeUnreachable)
            {
                return last;
            }
        }

        return last ?? new BrokeredFlow(null, null, null, 503, $"no connector serving app segment {segment} is connected to this edge");
    }

    /// <summary>The least loaded live link that serves the segment and does not report all its servers down, else any live one that serves it.</summary>
    private ConnectorLink? Pick(PrivateAccess apps, string segment, int port, List<ConnectorLink> tried)
    {
        var serving = _links.Keys.Where(l => l.Alive && !tried.Contains(l) && apps.Serves(l.ConnectorId, segment)).ToList();
        var healthy = serving.Where(l => !l.ReportsAllDown(segment, port)).ToList();
        return (healthy.Count > 0 ? healthy : serving)
            .OrderBy(l => l.OpenFlows)
            .ThenBy(l => l.RoundTrip)
            .FirstOrDefault();
    }

    /// <summary>Closes every link; later calls do nothing (the edge closes them after the drain and again in its cleanup).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        _stopping.Dispose();
    }
}
