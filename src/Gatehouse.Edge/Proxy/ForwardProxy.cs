using Gatehouse.Edge.Flows;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Gatehouse.Edge.Proxy;

/// <summary>
/// The agentless forward proxy listener: one <see cref="ProxySession"/> per client connection, on
/// Kestrel's socket transport (its pipes, connection limits and shutdown).
/// </summary>
internal sealed class ForwardProxy : ConnectionHandler
{
    private readonly DataPath _path;
    private readonly ILogger _logger;
    private readonly ProxyAuthThrottle _auth;

    public ForwardProxy(DataPath path, ILogger logger)
    {
        _path = path;
        _logger = logger;
        _auth = new ProxyAuthThrottle(path.Limits, path.Time, path.Metrics, logger);
    }

    /// <summary>The socket transport of the proxy's Kestrel server (the tests' proxies use it too).</summary>
    public static SocketConnectionFactoryOptions SocketOptions => new()
    {
        // A relay writes up to 64 KiB at a time: with Kestrel's 64 KiB default the reader waits for every
        // send to finish; a larger window lets the next read overlap the send (bench/edge.sh, CONNECT bulk).
        // Inline scheduling suits the proxy's relays, not HTTP/2 streams: the tunnel has its own server.
        MaxWriteBufferSize = 1024 * 1024,
        UnsafePreferInlineScheduling = true,
    };

    /// <summary>The address clients put in their proxy settings (HOST:PORT), written into the PAC file.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1:3128";

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        await using var session = new ProxySession(_path, _auth, connection, AdvertisedAddress, _logger);
        await session.RunAsync();
    }
}
