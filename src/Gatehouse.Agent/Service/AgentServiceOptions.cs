namespace Gatehouse.Agent.Service;

/// <summary>How the agent service runs.</summary>
public sealed record AgentServiceOptions
{
    /// <summary>The state directory (device credentials, config, sockets of the roles).</summary>
    public string StateDirectory { get; init; } = AgentPaths.DefaultStateDirectory;

    /// <summary>The local API socket <c>gatehouse</c> talks to.</summary>
    public string Socket { get; init; } = AgentPaths.DefaultSocket;

    /// <summary>The local proxy's address, HOST:PORT.</summary>
    public string ProxyListen { get; init; } = LocalProxy.LocalProxySession.DefaultListen;

    /// <summary>The captive-portal probe URL handed to the data plane.</summary>
    public string CaptivePortalProbe { get; init; } = Networks.CaptivePortalMonitor.DefaultProbe;

    /// <summary>Whether the data plane may intercept transparently (nftables; needs root). The service then also removes a dead data plane's table.</summary>
    public bool Transparent { get; init; }

    /// <summary>Restart delays of the data plane's watchdog (tests slow them down to watch the gap).</summary>
    public TimeSpan FirstRestartDelay { get; init; } = RoleSupervisor.FirstBackoff;

    /// <summary>How to start the data plane; <see langword="null"/> runs this program's <c>dataplane</c> command.</summary>
    public RoleCommand? DataPlane { get; init; }

    /// <summary>
    /// The install directory of agent builds when the service runs under <c>gatehouse-agent launch</c>:
    /// the service then follows the tenant's <c>agent</c> rollout and installs new builds there. Null: it does not.
    /// </summary>
    public string? InstallDirectory { get; init; }

    /// <summary>How often the service checks for agent builds.</summary>
    public TimeSpan ReleasePoll { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the data plane checks for pushed content (its default when null).</summary>
    public TimeSpan? ContentPoll { get; init; }

    /// <summary>How long a trial content version must run before it is committed (its default when null).</summary>
    public TimeSpan? ContentHealthWindow { get; init; }

    /// <summary>The agent's version, sent at enrollment.</summary>
    public string Version { get; init; } = typeof(AgentServiceOptions).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The DNS servers the data plane asks for the DR record; empty: those of /etc/resolv.conf.</summary>
    public IReadOnlyList<System.Net.IPEndPoint> DrResolvers { get; init; } = [];
}
