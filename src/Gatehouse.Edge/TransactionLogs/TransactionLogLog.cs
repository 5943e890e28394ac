namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// Log messages of the transaction log pipeline (event ids 1300-1399). Records themselves are never
/// logged: they carry users' emails and URLs. Failures are logged once per streak, not per record or try.
/// </summary>
internal static partial class TransactionLogLog
{
    [LoggerMessage(1300, LogLevel.Information, "Transaction logs go to: {Sinks}")]
    public static partial void Started(ILogger logger, string sinks);

    [LoggerMessage(1301, LogLevel.Warning, "The {Sink} transaction log queue is full ({Capacity} records): records are dropped and counted in gatehouse_edge_log_records_dropped_total until it drains")]
    public static partial void QueueFull(ILogger logger, string sink, int capacity);

    [LoggerMessage(1302, LogLevel.Information, "The {Sink} transaction log queue has room again; {Dropped} records dropped for a full queue since start")]
    public static partial void QueueRecovered(ILogger logger, string sink, long dropped);

    [LoggerMessage(1303, LogLevel.Error, "Writing transaction logs to {Path} failed; records are dropped until a write succeeds")]
    public static partial void FileWriteFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(1304, LogLevel.Information, "Writing transaction logs to {Path} works again; {Dropped} records were dropped while it failed")]
    public static partial void FileWriteRecovered(ILogger logger, string path, long dropped);

    [LoggerMessage(1305, LogLevel.Debug, "Rotated transaction log {Path} to {RotatedPath}")]
    public static partial void FileRotated(ILogger logger, string path, string rotatedPath);

    [LoggerMessage(1306, LogLevel.Warning, "Could not delete the old transaction log {Path}")]
    public static partial void FilePruneFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(1307, LogLevel.Warning, "Shipping transaction logs to the portal failed: {Error} The batch of {Records} is tried again in {Delay}; later failures are logged at debug level until it works")]
    public static partial void PortalFailed(ILogger logger, string error, int records, TimeSpan delay);

    [LoggerMessage(1308, LogLevel.Debug, "Shipping transaction logs to the portal failed again ({Failures} in a row): {Error} Next try in {Delay}")]
    public static partial void PortalFailedAgain(ILogger logger, int failures, string error, TimeSpan delay);

    [LoggerMessage(1309, LogLevel.Information, "Shipping transaction logs to the portal works again after {Failures} failed tries")]
    public static partial void PortalRecovered(ILogger logger, int failures);

    [LoggerMessage(1310, LogLevel.Warning, "The portal refused a batch of {Records} transaction log records ({Status}): {Detail} The batch is dropped")]
    public static partial void PortalRejected(ILogger logger, int records, int status, string detail);

    [LoggerMessage(1311, LogLevel.Information, "Sending transaction logs to the SIEM at {Endpoint} over syslog (TCP)")]
    public static partial void SyslogConnected(ILogger logger, string endpoint);

    [LoggerMessage(1312, LogLevel.Warning, "Sending transaction logs to the SIEM at {Endpoint} failed: {Error} Reconnecting in {Delay}; later failures are logged at debug level until it works")]
    public static partial void SyslogFailed(ILogger logger, string endpoint, string error, TimeSpan delay);

    [LoggerMessage(1313, LogLevel.Debug, "Sending transaction logs to the SIEM at {Endpoint} failed again ({Failures} in a row): {Error} Reconnecting in {Delay}")]
    public static partial void SyslogFailedAgain(ILogger logger, string endpoint, int failures, string error, TimeSpan delay);

    [LoggerMessage(1314, LogLevel.Error, "The {Sink} transaction log sink failed unexpectedly; its batch of {Records} is dropped and counted as write_error")]
    public static partial void SinkFailed(ILogger logger, string sink, int records, Exception exception);

    [LoggerMessage(1315, LogLevel.Warning, "{Dropped} transaction log records for {Sink} were dropped at shutdown: they were not delivered within {Timeout}")]
    public static partial void ShutdownDropped(ILogger logger, string sink, long dropped, TimeSpan timeout);

    [LoggerMessage(1316, LogLevel.Information, "The {Sink} transaction log sink stopped: {Written} records written, {Dropped} dropped since start")]
    public static partial void SinkStopped(ILogger logger, string sink, long written, long dropped);

    [LoggerMessage(1317, LogLevel.Warning, "Closing the {Sink} transaction log sink failed")]
    public static partial void CloseFailed(ILogger logger, string sink, Exception exception);

    [LoggerMessage(1318, LogLevel.Warning, "The portal refused {Refused} of a batch of {Records} transaction log records and stored the others; the refused are dropped: {Problems}")]
    public static partial void PortalRefusedRecords(ILogger logger, int refused, int records, string problems);
}
