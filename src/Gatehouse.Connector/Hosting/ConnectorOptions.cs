using System.Net;
using Gatehouse.Node.Config;

namespace Gatehouse.Connector.Hosting;

/// <summary>How an app connector runs.</summary>
public sealed record ConnectorOptions
{
    /// <summary>Where <c>gatehouse-connector enroll</c> keeps the credentials by default.</summary>
    public const string DefaultStateDirectory = "/var/lib/gatehouse/connector";

    /// <summary>The connector's credential directory.</summary>
    public string StateDirectory { get; init; } = DefaultStateDirectory;

    /// <summary>Edges (HOST:PORT) to link to instead of the bundle's list: for a lab, or to pin a site's edges.</summary>
    public IReadOnlyList<string>? Edges { get; init; }

    /// <summary>Ranges the connector may reach although egress safety refuses them (loopback, link-local, its own addresses).</summary>
    public IReadOnlyList<IPNetwork> EgressAllow { get; init; } = [];

    /// <summary>How often app servers are checked.</summary>
    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one check may take.</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the connector reports its status to the portal (and at once when a server changes state).</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection to an app may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A flow with no bytes either way for this long is cut.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Resolves names inside the private network; the system resolver when null (tests point it elsewhere).</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>>? ResolveHost { get; init; }

    /// <summary>Following the portal (tests shorten the waits).</summary>
    public BundleFollowerOptions? Follower { get; init; }

    /// <summary>The clock.</summary>
    public TimeProvider? Time { get; init; }
}
