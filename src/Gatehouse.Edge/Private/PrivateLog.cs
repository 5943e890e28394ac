namespace Gatehouse.Edge.Private;

/// <summary>Log events of private access on the edge: connector links and brokered flows (1500–1549).</summary>
internal static partial class PrivateLog
{
    [LoggerMessage(1500, LogLevel.Information, "Connector {ConnectorId} linked in from {Remote}")]
    public static partial void LinkUp(ILogger logger, string connectorId, string remote);

    [LoggerMessage(1501, LogLevel.Information, "The link of connector {ConnectorId} from {Remote} ended")]
    public static partial void LinkDown(ILogger logger, string connectorId, string remote);

    [LoggerMessage(1502, LogLevel.Warning, "A connector link from {Remote} was refused: {Reason}")]
    public static partial void LinkRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(1503, LogLevel.Warning, "A relay connection from {Remote} was closed: {Reason}")]
    public static partial void RelayRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(1504, LogLevel.Debug, "A connection from {Remote} to the tunnel port was neither TLS nor a relay preamble; it was closed")]
    public static partial void NoRelayPreamble(ILogger logger, string remote);
}
