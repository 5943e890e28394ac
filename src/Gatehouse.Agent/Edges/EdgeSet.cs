using System.Security.Cryptography.X509Certificates;
using Gatehouse.Agent.Bundles;
using Gatehouse.Agent.State;
using Gatehouse.Node.Credentials;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Http;
using Gatehouse.Wire.Sockets;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Edges;

/// <summary>How opening a flow through the edges ended.</summary>
internal enum EdgeOpenOutcome
{
    /// <summary>An edge answered: opened, or refused with its status and reason.</summary>
    Answered,

    /// <summary>No edge could be reached: the fail mode applies.</summary>
    NoEdge,
}

/// <summary>An edge's answer (<see cref="Result"/>) and which edge gave it, or <see cref="EdgeOpenOutcome.NoEdge"/>.</summary>
internal readonly record struct EdgeOpen(EdgeOpenOutcome Outcome, TunnelOpenResult? Result, string? Edge, string? Error);

/// <summary>
/// The edges of the bundle in force, ordered by measured latency. A probe loop times a TCP handshake
/// with each edge every <see cref="ProbeInterval"/> (a <see cref="ReachabilityProbe"/>, which the edge
/// never accepts); the fastest that answers is the primary. A flow goes to the primary; when that edge
/// cannot be reached the flow goes to the next at once, and the edge counts as down until a probe
/// reaches it again.
/// </summary>
internal sealed class EdgeSet : IAsyncDisposable
{
    /// <summary>How often every edge is probed.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long a probe waits for an edge's TCP handshake.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    private readonly AgentState _state;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private List<EdgeEntry> _edges = [];
    private DeviceCertificate? _device;
    private readonly int? _socketMark;
    private Task _probing = Task.CompletedTask;

    /// <param name="state">Where the measurements go.</param>
    /// <param name="logger">The log.</param>
    /// <param name="socketMark">The mark of the agent's sockets to the edges (transparent mode), so that its redirect lets them pass.</param>
    public EdgeSet(AgentState state, ILogger logger, int? socketMark = null)
    {
        _state = state;
        _logger = logger;
        _socketMark = socketMark;
    }

    /// <summary>The edges, primary first (for status and tests).</summary>
    public IReadOnlyList<(string Name, string Address, bool Up, double? LatencyMs)> Ordered
    {
        get
        {
            lock (_lock)
            {
                return [.. Order(_edges).Select(e => (e.Edge.Name, e.Edge.Address, e.Up, e.LatencyMs))];
            }
        }
    }

    /// <summary>Starts probing.</summary>
    public void Start() => _probing = ProbeLoopAsync(_stop.Token);

    /// <summary>Uses <paramref name="credentials"/> for flows opened from now on (at start and after a renewal).</summary>
    public void UseCredentials(NodeCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);

        // Copies: the caller disposes its credentials, and clients made later still need them.
        var device = new DeviceCertificate(credentials.CreateCertificateWithKey(), X509CertificateLoader.LoadCertificate(credentials.TenantCa.RawData), credentials.Identity.TenantId.ToString());
        lock (_lock)
        {
            _device = device;

            // Flows open on the old clients keep them; new flows take clients with the new certificate.
            _edges = [.. _edges.Select(e => e with { Client = NewClient(e.Edge) })];
        }
    }

    /// <summary>Takes the edge list of a new bundle; edges that stay keep their clients and measurements.</summary>
    public void Use(IReadOnlyList<BundleEdge> edges)
    {
        lock (_lock)
        {
            var old = _edges.ToDictionary(e => e.Edge, e => e);
            _edges = [.. edges.Distinct().Select(e => old.TryGetValue(e, out var kept) ? kept : new EdgeEntry(e, NewClient(e), Up: false, LatencyMs: null, Probed: false))];
            if (_edges.Any(e => !e.Probed))
            {
                _state.EdgesChanged();
            }
        }

        _ = ProbeAllAsync(_stop.Token);
    }

    /// <summary>Opens a flow through the primary edge, or the next when an edge cannot be reached.</summary>
    public async Task<EdgeOpen> OpenAsync(string host, int port, TunnelFlowMetadata metadata, CancellationToken ct)
    {
        List<EdgeEntry> candidates;
        lock (_lock)
        {
            candidates = Order(_edges);
        }

        string? error = candidates.Count == 0 ? "the config lists no edge" : null;
        foreach (var entry in candidates)
        {
            if (entry.Client is null)
            {
                continue;
            }

            var result = await entry.Client.OpenAsync(host, port, metadata, ct: ct);
            if (!result.EdgeUnreachable)
            {
                _state.TunnelResult(answered: true);
                return new EdgeOpen(EdgeOpenOutcome.Answered, result, entry.Edge.Name, null);
            }

            // The edge itself cannot be reached: down until a probe reaches it, and the next one takes the flow.
            error = $"edge {entry.Edge.Name} ({entry.Edge.Address}): {result.Reason}";
            AgentLog.EdgeUnreachable(_logger, entry.Edge.Name, entry.Edge.Address, result.Reason ?? "no answer");
            MarkDown(entry.Edge);
        }

        if (!ct.IsCancellationRequested)
        {
            _state.TunnelResult(answered: false);
        }

        Publish(error);
        return new EdgeOpen(EdgeOpenOutcome.NoEdge, null, null, error);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _probing;
        }
        catch (OperationCanceledException)
        {
            // stopping
        }

        lock (_lock)
        {
            foreach (var entry in _edges)
            {
                entry.Client?.Dispose();
            }

            _edges = [];
        }

        _stop.Dispose();
    }

    private static List<EdgeEntry> Order(List<EdgeEntry> edges) =>
        [.. edges.OrderBy(e => e.Up ? 0 : 1).ThenBy(e => e.LatencyMs ?? double.MaxValue)];

    private TunnelClient? NewClient(BundleEdge edge) =>
        _device is null ? null : new TunnelClient(edge.Address, _device.Certificate, _device.TenantCa, _device.TenantId, _socketMark) { OfferRelay = true };

    /// <summary>Whether any of <paramref name="edges"/> accepts a connection now (edges other than the ones in use, such as the cloud's while in DR).</summary>
    public async Task<bool> AnyAnswersAsync(IEnumerable<BundleEdge> edges, CancellationToken ct) =>
        (await Task.WhenAll(edges.Select(e => ProbeAsync(e, ct)))).Any(r => r.LatencyMs is not null);

    private async Task ProbeLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await ProbeAllAsync(ct);
            await Task.Delay(ProbeInterval, ct);
        }
    }

    private async Task ProbeAllAsync(CancellationToken ct)
    {
        List<EdgeEntry> edges;
        lock (_lock)
        {
            edges = [.. _edges];
        }

        var results = await Task.WhenAll(edges.Select(e => ProbeAsync(e.Edge, ct)));
        lock (_lock)
        {
            foreach (var (edge, latency) in results)
            {
                var index = _edges.FindIndex(e => e.Edge == edge);
                if (index >= 0)
                {
                    _edges[index] = _edges[index] with { Up = latency is not null, LatencyMs = latency, Probed = true };
                }
            }
        }

        Publish(null);
    }

    private async Task<(BundleEdge Edge, double? LatencyMs)> ProbeAsync(BundleEdge edge, CancellationToken ct)
    {
        if (!Target.TryParseAuthority(edge.Address, defaultPort: 0, out var address))
        {
            return (edge, null);
        }

        var roundTrip = await ReachabilityProbe.RoundTripAsync(address.Host, address.Port, ProbeTimeout, _socketMark, ct);
        return (edge, roundTrip?.TotalMilliseconds);
    }

    private void MarkDown(BundleEdge edge)
    {
        lock (_lock)
        {
            var index = _edges.FindIndex(e => e.Edge == edge);
            if (index >= 0)
            {
                _edges[index] = _edges[index] with { Up = false, LatencyMs = null };
            }
        }

        Publish(null);
    }

    private void Publish(string? error)
    {
        EdgeEntry? primary;
        bool probed;
        lock (_lock)
        {
            primary = Order(_edges).FirstOrDefault(e => e.Up);
            probed = _edges.Count == 0 || _edges.Any(e => e.Probed);
        }

        if (!probed)
        {
            return;
        }

        _state.EdgesMeasured(primary is null ? null : $"{primary.Edge.Name} ({primary.Edge.Address})", primary?.LatencyMs, primary is null ? error ?? "no edge answers" : error);
    }

    /// <summary>The device's certificate with its key, and what the edges must chain to.</summary>
    private sealed record DeviceCertificate(X509Certificate2 Certificate, X509Certificate2 TenantCa, string TenantId);

    private sealed record EdgeEntry(BundleEdge Edge, TunnelClient? Client, bool Up, double? LatencyMs, bool Probed);
}
