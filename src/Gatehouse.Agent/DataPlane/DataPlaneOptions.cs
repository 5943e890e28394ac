using Gatehouse.Node.Config;

namespace Gatehouse.Agent.DataPlane;

/// <summary>How the data plane runs.</summary>
public sealed record DataPlaneOptions
{
    /// <summary>The agent's state directory (device credentials in <c>device/</c>).</summary>
    public required string StateDirectory { get; init; }

    /// <summary>Where the data plane answers the service's status questions.</summary>
    public required string StatusSocket { get; init; }

    /// <summary>The local proxy's address, HOST:PORT.</summary>
    public string ProxyListen { get; init; } = LocalProxy.LocalProxySession.DefaultListen;

    /// <summary>The resolver configuration the trusted-network criteria read (DNS servers, search domains).</summary>
    public string ResolvConf { get; init; } = Networks.NetworkDetector.DefaultResolvConf;

    /// <summary>How often the network is evaluated again when nothing else wakes the monitor.</summary>
    public TimeSpan NetworkRecheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The URL that answers 204 on an open network; anything else while no edge answers means a captive portal.</summary>
    public string CaptivePortalProbe { get; init; } = Networks.CaptivePortalMonitor.DefaultProbe;

    /// <summary>How often the captive-portal probe runs while no edge answers.</summary>
    public TimeSpan CaptivePortalRecheckInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether the agent may redirect the machine's traffic to itself with an nftables table when the
    /// forwarding profile says <c>tunnel</c> (needs root, or CAP_NET_ADMIN); otherwise only the local proxy intercepts.
    /// </summary>
    public bool Transparent { get; init; }

    /// <summary>Where redirected connections arrive, HOST:PORT on loopback.</summary>
    public string TransparentListen { get; init; } = Gatehouse.Agent.Transparent.TransparentInterception.DefaultListen;

    /// <summary>The local DNS resolver's address (UDP and TCP), HOST:PORT on loopback.</summary>
    public string DnsListen { get; init; } = Names.LocalResolver.DefaultListen;

    /// <summary>The most private-app names that hold a synthetic address at once.</summary>
    public int SyntheticCapacity { get; init; } = 4096;

    /// <summary>
    /// How often the device's user and groups are asked again (they choose the app profile); also on
    /// every new bundle. A membership change does not change the tenant-wide agent bundle.
    /// </summary>
    public TimeSpan OwnerRefreshInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How pushed content is polled for and judged (tests make it fast).</summary>
    public Updates.ContentUpdaterOptions? ContentUpdates { get; init; }

    /// <summary>Tuning of the config follower (tests make it fast).</summary>
    public BundleFollowerOptions? Follower { get; init; }

    /// <summary>The DNS servers the DR record is asked of; empty: the name servers of <see cref="ResolvConf"/>.</summary>
    public IReadOnlyList<System.Net.IPEndPoint> DrResolvers { get; init; } = [];
}
