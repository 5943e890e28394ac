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

    /// <summary>
    /// How much of one flow's upload the tunnel listener takes ahead of its destination (the HTTP/2 stream window it
    /// gives agents). The edge holds up to this much in memory for an upload its destination takes slowly; a flow
    /// uploads at most this much per round trip between agent and edge.
    /// </summary>
    public int TunnelStreamWindowBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>
    /// How much of all the uploads of one agent connection the tunnel listener takes ahead of their destinations (the
    /// HTTP/2 connection window): what one agent connection can make the edge hold at most. At least
    /// <see cref="TunnelStreamWindowBytes"/>.
    /// </summary>
    public int TunnelConnectionWindowBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// The most agent connections one device certificate may hold open on the tunnel listener at once; one more closes
    /// the device's oldest (<see cref="Tunnel.DeviceConnectionLimit"/>).
    /// </summary>
    public int MaxConnectionsPerDevice { get; init; } = 16;

    /// <summary>
    /// Wrong proxy credentials for one user name from one client address (an IPv6 client's /64) within
    /// <see cref="ProxyAuthFailureWindow"/> after which that name is refused from that address, without a look at
    /// the password, for one window. Other names from the address, and the name from other addresses, go on.
    /// </summary>
    public int ProxyAuthFailuresPerUser { get; init; } = 10;

    /// <summary>
    /// Wrong proxy credentials from one client address (an IPv6 client's /64), whatever the user names, within
    /// <see cref="ProxyAuthFailureWindow"/> after which every request with credentials from that address is refused,
    /// without a look at the password, for one window. Higher than <see cref="ProxyAuthFailuresPerUser"/>, so that one
    /// client with a stale password behind a shared address does not lock its neighbours out.
    /// </summary>
    public int ProxyAuthFailuresPerAddress { get; init; } = 100;

    /// <summary>How long wrong proxy credentials are counted from the first, and how long a limit reached refuses.</summary>
    public TimeSpan ProxyAuthFailureWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The most client addresses whose wrong proxy credentials are counted at once; past it, those whose last failure
    /// is oldest are forgotten first, so that clients on many addresses cannot grow the table without bound.
    /// </summary>
    public int ProxyAuthTrackedAddresses { get; init; } = 65_536;
}
