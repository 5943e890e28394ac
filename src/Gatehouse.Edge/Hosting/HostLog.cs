
namespace Gatehouse.Edge.Hosting;

/// <summary>Log messages of the edge host (event ids 1000-1099).</summary>
internal static partial class HostLog
{
    [LoggerMessage(1000, LogLevel.Information, "Edge {SubjectId} of tenant {TenantId} started; operations endpoints on {OpsAddress}")]
    public static partial void Started(ILogger logger, Guid subjectId, Guid tenantId, string opsAddress);

    [LoggerMessage(1001, LogLevel.Information, "Portal {Connection} since {Since:O}{Error}")]
    public static partial void PortalStatus(ILogger logger, string connection, DateTimeOffset since, string error);

    [LoggerMessage(1002, LogLevel.Warning, "No config bundle yet: the edge serves no policy until the portal answers")]
    public static partial void NoBundleYet(ILogger logger);

    [LoggerMessage(1003, LogLevel.Information, "Edge stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(1006, LogLevel.Information, "Stopped; {Cut} open flows were cut at the end of the drain")]
    public static partial void Drained(ILogger logger, int cut);

    [LoggerMessage(1010, LogLevel.Information, "DR bundle {File} version {Version} is in force")]
    public static partial void DrBundleImported(ILogger logger, string file, long version);

    [LoggerMessage(1011, LogLevel.Warning, "DR bundle {File} is older than the one this edge has (version {Version}); keeping that one")]
    public static partial void DrBundleOlder(ILogger logger, string file, long version);
}
