namespace Gatehouse.Portal.Logs;

/// <summary>Log messages of transaction log storage, with stable event ids.</summary>
internal static partial class LogsLog
{
    [LoggerMessage(5000, LogLevel.Information, "Deleted {Count} transaction log records older than {Cutoff}")]
    public static partial void Swept(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(5001, LogLevel.Error, "Deleting expired transaction log records failed; the next sweep tries again")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(5002, LogLevel.Warning, "Edge {EdgeId} sent {Refused} of {Records} transaction log records with a bad field; they were refused and the others stored. The first: {Field}: {Detail}")]
    public static partial void RecordsRefused(ILogger logger, Guid edgeId, int refused, int records, string field, string detail);
}
