namespace Gatehouse.Edge.Proxy;

/// <summary>Log events of the forward proxy (1400–1449).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(1400, LogLevel.Information, "Forward proxy listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(1401, LogLevel.Debug, "Proxy client {Client} sent a bad request: {Reason}")]
    public static partial void BadRequest(ILogger logger, string client, string reason);

    [LoggerMessage(1402, LogLevel.Warning, "Proxy connection from {Client} failed unexpectedly")]
    public static partial void SessionFailed(ILogger logger, Exception exception, string client);
}
