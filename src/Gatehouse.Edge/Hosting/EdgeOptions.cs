using Gatehouse.Node.Config;

namespace Gatehouse.Edge.Hosting;

/// <summary>How an edge runs: where its credentials are and where the operations endpoints listen.</summary>
public sealed record EdgeOptions
{
    /// <summary>Where an installed edge keeps its credentials and last-known-good bundle.</summary>
    public const string DefaultStateDirectory = "/var/lib/gatehouse/edge";

    /// <summary>Where <c>/healthz</c> and <c>/metrics</c> listen by default: loopback only.</summary>
    public const string DefaultOpsListen = "http://127.0.0.1:7445";

    /// <summary>The node's credential directory (<see cref="Gatehouse.Node.Credentials.NodeCredentialStore"/>).</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory;

    /// <summary>The URL the operations endpoints listen on; port 0 picks a free port.</summary>
    public string OpsListen { get; init; } = DefaultOpsListen;

    /// <summary>Tuning of the bundle follower; the defaults when not given.</summary>
    public BundleFollowerOptions? Follower { get; init; }

    /// <summary>The clock; the system clock when not given.</summary>
    public TimeProvider? Time { get; init; }
}
