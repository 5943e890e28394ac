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

    [LoggerMessage(1403, LogLevel.Warning, "Proxy clients at {Address} sent {Failures} wrong credentials; their requests with credentials are refused for {Window}")]
    public static partial void AddressRefused(ILogger logger, string address, int failures, TimeSpan window);

    [LoggerMessage(1404, LogLevel.Warning, "Proxy clients at {Address} sent {Failures} wrong credentials for the user name {UserName}; it is refused from there for {Window}")]
    public static partial void UserNameRefused(ILogger logger, string address, string userName, int failures, TimeSpan window);
}
