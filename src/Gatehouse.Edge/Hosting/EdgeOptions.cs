using System.Net;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Node.Config;

namespace Gatehouse.Edge.Hosting;

/// <summary>How an edge runs: where its credentials are and where the operations endpoints listen.</summary>
public sealed record EdgeOptions
{
    /// <summary>Where an installed edge keeps its credentials and last-known-good bundle.</summary>
    public const string DefaultStateDirectory = "/var/lib/gatehouse/edge";

    /// <summary>Where <c>/healthz</c> and <c>/metrics</c> listen by default: loopback only.</summary>
    public const string DefaultOpsListen = "http://127.0.0.1:7445";

    /// <summary>Where the agentless forward proxy listens by default.</summary>
    public const string DefaultProxyListen = "127.0.0.1:3128";

    /// <summary>Where the agent tunnel listener listens by default.</summary>
    public const string DefaultTunnelListen = "127.0.0.1:7444";

    /// <summary>The node's credential directory (<see cref="Gatehouse.Node.Credentials.NodeCredentialStore"/>).</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory;

    /// <summary>The URL the operations endpoints listen on; port 0 picks a free port.</summary>
    public string OpsListen { get; init; } = DefaultOpsListen;

    /// <summary>Where the agentless forward proxy listens (HOST:PORT; port 0 picks a free port); null turns it off.</summary>
    public string? ProxyListen { get; init; } = DefaultProxyListen;

    /// <summary>Where the agent tunnel listener (HTTP/2, mutual TLS) listens (HOST:PORT; port 0 picks a free port); null turns it off.</summary>
    public string? TunnelListen { get; init; } = DefaultTunnelListen;

    /// <summary>An example of <see cref="ProxyAdvertise"/>, for messages.</summary>
    public const string ProxyAddressExample = "edge-1.example:3128";

    /// <summary>The proxy address written into the PAC file (HOST:PORT, as clients reach it); the listening address when not given.</summary>
    public string? ProxyAdvertise { get; init; }

    /// <summary>Ranges the edge may reach although egress safety would refuse them (for example 127.0.0.0/8 for a local demo).</summary>
    public IReadOnlyList<IPNetwork> EgressAllow { get; init; } = [];

    /// <summary>The edge's own management networks, refused as destinations like loopback.</summary>
    public IReadOnlyList<IPNetwork> ManagementNetworks { get; init; } = [];

    /// <summary>
    /// How destination names are resolved; the system resolver when null. Embedders and tests that run
    /// an edge next to a resolver of their own (a network namespace's) set it.
    /// </summary>
    public Func<string, CancellationToken, Task<IPAddress[]>>? ResolveHost { get; init; }

    /// <summary>Limits and timeouts of the data path.</summary>
    public EdgeLimits Limits { get; init; } = new();

    /// <summary>The transaction log: files, portal shipping, syslog (used when <see cref="Recorder"/> is null).</summary>
    public TransactionLogOptions Logs { get; init; } = new();

    /// <summary>Where transaction records go; when null, a <see cref="TransactionLog"/> made from <see cref="Logs"/>.</summary>
    public ITransactionRecorder? Recorder { get; init; }

    /// <summary>Tuning of the bundle follower; the defaults when not given.</summary>
    public BundleFollowerOptions? Follower { get; init; }

    /// <summary>
    /// Disaster-recovery mode: the edge follows its tenant's DR bundle (the DR policy) instead of
    /// the edge bundle, and keeps enforcing the last one it has when the portal is gone.
    /// </summary>
    public bool DisasterRecovery { get; init; }

    /// <summary>A DR bundle exported with <c>gatehouse dr export</c>, put in force at start when it is newer than the one on disk (DR mode only).</summary>
    public string? DrBundleFile { get; init; }

    /// <summary>
    /// Whether private flows from agents that offer it are relayed end to end (one TLS session between agent and
    /// connector through this edge: each byte encrypted once, about as fast as an SSH forward, but a new flow's first
    /// byte later). Off, every private flow rides the connector link's HTTP/2 stream. On by default.
    /// </summary>
    public bool RelayPrivateFlows { get; init; } = true;

    /// <summary>The clock; the system clock when not given.</summary>
    public TimeProvider? Time { get; init; }
}
