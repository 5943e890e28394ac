namespace Gatehouse.Edge.Tunnel;

/// <summary>Log events of the agent tunnel listener (1450–1499).</summary>
internal static partial class TunnelLog
{
    [LoggerMessage(1450, LogLevel.Debug, "Tunnel client {Client} did not open with a TLS ClientHello that parses ({Error}); the connection is closed")]
    public static partial void NoClientHello(ILogger logger, string client, string error);

    [LoggerMessage(1451, LogLevel.Warning, "Tunnel connection from {Client} is closed: its device certificate {Subject} opened another, past its limit of {Limit} (EdgeLimits.MaxConnectionsPerDevice), and this was its oldest")]
    public static partial void DeviceConnectionsOverLimit(ILogger logger, string client, string subject, int limit);
}
