namespace Gatehouse.Portal.Hosting;

/// <summary>The portal's log messages, with stable event ids. Never pass a secret to these.</summary>
internal static partial class PortalLog
{
    [LoggerMessage(1000, LogLevel.Information, "Portal storage: {Engine}; data directory {DataDirectory}")]
    public static partial void StorageReady(ILogger logger, string engine, string dataDirectory);

    [LoggerMessage(1001, LogLevel.Information, "Applied database migrations: {Migrations}")]
    public static partial void MigrationsApplied(ILogger logger, string migrations);

    [LoggerMessage(1002, LogLevel.Warning, "Created the first tenant '{Tenant}' with owner {Email}")]
    public static partial void BootstrapCreated(ILogger logger, string tenant, string email);

    [LoggerMessage(1003, LogLevel.Debug, "TLS client {Client} sent a handshake that does not parse ({Error}); the connection is closed")]
    public static partial void HandshakeFailed(ILogger logger, string client, string error);

    [LoggerMessage(1100, LogLevel.Error, "{Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(1200, LogLevel.Information, "Admin {Email} signed in")]
    public static partial void SignedIn(ILogger logger, string email);

    [LoggerMessage(1201, LogLevel.Warning, "Failed sign-in for {Email} from {Remote}")]
    public static partial void SignInFailed(ILogger logger, string email, string? remote);
}
