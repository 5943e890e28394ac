namespace Gatehouse.Edge.Flows;

/// <summary>Limits and timeouts of the data path, so that slow or idle clients cannot starve others.</summary>
public sealed record EdgeLimits
{
    /// <summary>
    /// How long a client may take to send a whole request head (slow-header clients are cut); on the tunnel
    /// listener, how long a client may take to complete the TLS handshake.
    /// </summary>
    public TimeSpan HeaderTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a kept-alive proxy connection may wait for its next request.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a flow may carry no bytes before it is ended.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one connection attempt to a destination may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a destination may take to start its response.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long shutdown waits for open flows before cutting them.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest request or response head, in bytes.</summary>
    public int MaxHeadBytes { get; init; } = 32 * 1024;

    /// <summary>The most client connections each listener holds at once; more are refused at accept.</summary>
    public long MaxConnections { get; init; } = 50_000;

    /// <summary>The most concurrent tunnel streams on one agent connection.</summary>
    public int MaxStreamsPerConnection { get; init; } = 1000;
}
