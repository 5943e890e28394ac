using System.Diagnostics.Metrics;
using Gatehouse.Edge.Policies;
using Gatehouse.Node.Config;
using Gatehouse.Observability;

namespace Gatehouse.Edge.Operations;

/// <summary>
/// The edge's instruments, on a meter of its own per host (so that several hosts in one process,
/// as in tests, never mix their numbers), with an exporter for <c>GET /metrics</c>.
/// </summary>
public sealed class EdgeMetrics : IDisposable
{
    /// <summary>The name of the edge's meter.</summary>
    public const string MeterName = "Gatehouse.Edge";

    private readonly Counter<long> _bundlesAccepted;
    private readonly Counter<long> _compileFailures;
    private readonly Counter<long> _transactions;
    private readonly Counter<long> _bytes;
    private readonly Histogram<double> _flowDuration;
    private readonly Counter<long> _proxyAuthFailures;
    private readonly Counter<long> _proxyAuthRefused;

    /// <summary>Creates the meter, its counters and the process metrics, and an exporter of that meter alone.</summary>
    public EdgeMetrics()
    {
        Meter = new Meter(MeterName);
        _bundlesAccepted = Meter.CreateCounter<long>("gatehouse_edge_bundles_accepted", description: "Verified config bundles handed to the policy, newest first seen.");
        _compileFailures = Meter.CreateCounter<long>("gatehouse_edge_policy_compile_failures", description: "Config bundles whose policy was malformed or did not compile; the previous policy stayed in force.");
        _transactions = Meter.CreateCounter<long>("gatehouse_edge_transactions", description: "Flows and HTTP requests by listener, kind and action (allow, block, caution, caution-continued, denied, error).");
        _bytes = Meter.CreateCounter<long>("gatehouse_edge_bytes", unit: "bytes", description: "Bytes carried, by direction (up: client to destination; down: back).");
        _flowDuration = Meter.CreateHistogram<double>("gatehouse_edge_flow_duration", unit: "s", description: "How long flows lasted.");
        _proxyAuthFailures = Meter.CreateCounter<long>("gatehouse_edge_proxy_auth_failures", description: "Forward proxy requests with wrong credentials (checked, answered 407).");
        _proxyAuthRefused = Meter.CreateCounter<long>("gatehouse_edge_proxy_auth_refused", description: "Forward proxy requests with credentials refused unchecked (429) after too many wrong ones, by limit (address, user).");
        ProcessMetrics.Register(Meter);
        var meter = Meter;
        Exporter = new PrometheusExporter(m => ReferenceEquals(m, meter));

        // A counter shows from the first scrape, at 0, so that alerts on its rate work before the first failure.
        _bundlesAccepted.Add(0);
        _compileFailures.Add(0);
        _proxyAuthFailures.Add(0);
        _proxyAuthRefused.Add(0, new KeyValuePair<string, object?>("limit", "address"));
        _proxyAuthRefused.Add(0, new KeyValuePair<string, object?>("limit", "user"));
    }

    /// <summary>The meter that owns every edge instrument.</summary>
    public Meter Meter { get; }

    /// <summary>Renders this host's instruments in the Prometheus text format.</summary>
    public PrometheusExporter Exporter { get; }

    /// <summary>Adds the gauges that read the policy in force and the portal connection.</summary>
    /// <param name="policy">The policy in force.</param>
    /// <param name="portal">Reads the follower's view of the portal.</param>
    public void Observe(EdgePolicy policy, Func<BundleFollowerStatus> portal)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(portal);
        Meter.CreateObservableGauge("gatehouse_edge_policy_version", () => policy.State?.Version ?? 0, description: "Version of the config bundle whose policy is in force; 0 before any.");
        Meter.CreateObservableGauge("gatehouse_edge_policy_rules", () => policy.State?.RuleCount ?? 0, description: "Rules in the policy in force.");
        Meter.CreateObservableGauge("gatehouse_edge_portal_connected", () => portal().Connection == PortalConnection.Connected ? 1 : 0, description: "1 when the last call to the portal got an answer, else 0.");
    }

    /// <summary>Adds the gauge of open flows.</summary>
    /// <param name="openFlows">Reads how many flows are open.</param>
    public void ObserveFlows(Func<int> openFlows)
    {
        ArgumentNullException.ThrowIfNull(openFlows);
        Meter.CreateObservableGauge("gatehouse_edge_open_flows", openFlows, description: "Flows open now (CONNECT, tunnel streams, proxied requests in progress).");
    }

    /// <summary>Reports the relays of private flows (<see cref="Private.RelayRendezvous"/>).</summary>
    /// <param name="pending">Tickets issued and waiting for their ends.</param>
    /// <param name="paired">Relayed flows whose two ends met, since start.</param>
    /// <param name="refused">Connections to the tunnel port closed for a bad preamble or ticket, since start.</param>
    public void ObserveRelays(Func<int> pending, Func<long> paired, Func<long> refused)
    {
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(paired);
        ArgumentNullException.ThrowIfNull(refused);
        Meter.CreateObservableGauge("gatehouse_edge_relay_tickets_pending", pending, description: "Tickets of relayed private flows waiting for the device and the connector.");
        Meter.CreateObservableCounter("gatehouse_edge_relayed_flows_total", paired, description: "Private flows relayed end to end (both ends came with the ticket).");
        Meter.CreateObservableCounter("gatehouse_edge_relay_connections_refused_total", refused, description: "Connections to the tunnel port closed for a bad preamble, or an unknown, used or expired ticket.");
    }

    /// <summary>Reports the agent connections closed for the device's limit (<see cref="Tunnel.DeviceConnectionLimit"/>).</summary>
    /// <param name="closed">Connections closed since start.</param>
    public void ObserveDeviceConnections(Func<long> closed)
    {
        ArgumentNullException.ThrowIfNull(closed);
        Meter.CreateObservableCounter("gatehouse_edge_tunnel_connections_over_device_limit_total", closed, description: "Agent connections closed as their device's oldest when it opened more than EdgeLimits.MaxConnectionsPerDevice.");
    }

    /// <summary>Adds the gauge of client addresses whose wrong proxy credentials are counted.</summary>
    /// <param name="tracked">Reads how many there are.</param>
    public void ObserveProxyAuth(Func<int> tracked)
    {
        ArgumentNullException.ThrowIfNull(tracked);
        Meter.CreateObservableGauge("gatehouse_edge_proxy_auth_tracked_addresses", tracked, description: "Client addresses whose wrong proxy credentials are counted now (bounded by the edge's limit).");
    }

    internal void ProxyAuthFailed() => _proxyAuthFailures.Add(1);

    internal void ProxyAuthRefused(bool perUser) => _proxyAuthRefused.Add(1, new KeyValuePair<string, object?>("limit", perUser ? "user" : "address"));

    internal void Transaction(string listener, string kind, string action) =>
        _transactions.Add(1, new("listener", listener), new("kind", kind), new("action", action));

    internal void Carried(long up, long down, double seconds)
    {
        if (up > 0)
        {
            _bytes.Add(up, new KeyValuePair<string, object?>("direction", "up"));
        }

        if (down > 0)
        {
            _bytes.Add(down, new KeyValuePair<string, object?>("direction", "down"));
        }

        _flowDuration.Record(seconds);
    }

    internal void BundleAccepted() => _bundlesAccepted.Add(1);

    internal void CompileFailed() => _compileFailures.Add(1);

    /// <summary>Stops exporting and disposes the meter.</summary>
    public void Dispose()
    {
        Exporter.Dispose();
        Meter.Dispose();
    }
}
