namespace Gatehouse.Connector.Links;

/// <summary>Log events of the connector's links to edges (6000–6049).</summary>
internal static partial class LinkLog
{
    [LoggerMessage(6000, LogLevel.Information, "Linked to edge {Edge} at {Address}")]
    public static partial void Linked(ILogger logger, string edge, string address);

    [LoggerMessage(6001, LogLevel.Information, "The link to edge {Edge} at {Address} ended; dialling again")]
    public static partial void Unlinked(ILogger logger, string edge, string address);

    [LoggerMessage(6002, LogLevel.Warning, "Could not link to edge {Edge} at {Address}: {Reason}")]
    public static partial void DialFailed(ILogger logger, string edge, string address, string reason);
}
