namespace Gatehouse.Portal.Config;

/// <summary>Log messages of config publishing, with stable event ids.</summary>
internal static partial class ConfigLog
{
    [LoggerMessage(4000, LogLevel.Information, "Published config bundle v{Version} for {Consumer} of tenant {TenantId}")]
    public static partial void Published(ILogger logger, Guid tenantId, string consumer, long version);

    [LoggerMessage(4001, LogLevel.Error, "Publishing the config bundles of tenant {TenantId} failed; the previous bundles stay in force")]
    public static partial void PublishFailed(ILogger logger, Guid tenantId, Exception exception);

    [LoggerMessage(4002, LogLevel.Error, "Loading the stored config bundles failed")]
    public static partial void LoadFailed(ILogger logger, Exception exception);
}
