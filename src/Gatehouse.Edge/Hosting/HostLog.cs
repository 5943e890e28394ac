
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
}
