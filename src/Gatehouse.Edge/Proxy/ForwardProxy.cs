using Gatehouse.Edge.Flows;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Edge.Proxy;

/// <summary>
/// The agentless forward proxy listener: one <see cref="ProxySession"/> per client connection, on
/// Kestrel's socket transport (its pipes, connection limits and shutdown).
/// </summary>
internal sealed class ForwardProxy : ConnectionHandler
{
    private readonly DataPath _path;
    private readonly ILogger _logger;

    public ForwardProxy(DataPath path, ILogger logger)
    {
        _path = path;
        _logger = logger;
    }

    /// <summary>The address clients put in their proxy settings (HOST:PORT), written into the PAC file.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1:3128";

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        await using var session = new ProxySession(_path, connection, AdvertisedAddress, _logger);
        await session.RunAsync();
    }
}
