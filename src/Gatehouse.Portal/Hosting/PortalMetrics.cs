using System.Diagnostics.Metrics;

namespace Gatehouse.Portal.Hosting;

/// <summary>The portal's own instruments, served on <c>/metrics</c> with the HTTP server's.</summary>
public sealed class PortalMetrics
{
    private readonly Counter<long> _enrollments;
    private readonly Counter<long> _bundlesPublished;
    private readonly Counter<long> _configResponses;
    private readonly UpDownCounter<long> _longPolls;
    private readonly Counter<long> _logRecordsStored;
    private readonly Counter<long> _logRecordsRefused;
    private readonly Counter<long> _logRecordsExpired;

    /// <summary>Creates the instruments on the portal's meter.</summary>
    public PortalMetrics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        _enrollments = meter.CreateCounter<long>("gatehouse.portal.enrollments", description: "Enrollments and renewals, by kind and result.");
        _bundlesPublished = meter.CreateCounter<long>("gatehouse.portal.config.bundles_published", description: "Config bundle versions signed and published, by consumer.");
        _configResponses = meter.CreateCounter<long>("gatehouse.portal.config.responses", description: "Config fetches answered, by consumer and status (200 new bundle, 304 unchanged).");
        _longPolls = meter.CreateUpDownCounter<long>("gatehouse.portal.config.long_polls", description: "Config long polls waiting for a change now.");
        _logRecordsStored = meter.CreateCounter<long>("gatehouse.portal.logs.records_stored", description: "Transaction log records stored from edges' batches.");
        _logRecordsRefused = meter.CreateCounter<long>("gatehouse.portal.logs.records_refused", description: "Transaction log records refused from edges' batches for a bad field of their own.");
        _logRecordsExpired = meter.CreateCounter<long>("gatehouse.portal.logs.records_expired", description: "Transaction log records deleted by the retention sweep.");
    }

    /// <summary>One enrollment or renewal ended: <paramref name="result"/> is <c>enrolled</c>, <c>renewed</c> or <c>refused</c>.</summary>
    public void Enrollment(string kind, string result) => _enrollments.Add(1, new("kind", kind), new("result", result));

    /// <summary>A new bundle version was published.</summary>
    public void BundlePublished(string consumer) => _bundlesPublished.Add(1, new KeyValuePair<string, object?>("consumer", consumer));

    /// <summary>A config fetch was answered.</summary>
    public void ConfigResponse(string consumer, int status) => _configResponses.Add(1, new("consumer", consumer), new("status", status));

    /// <summary>A batch of transaction log records was stored.</summary>
    public void LogRecordsStored(int count) => _logRecordsStored.Add(count);

    /// <summary>Records of a batch were refused one by one, each for a bad field of its own.</summary>
    public void LogRecordsRefused(int count) => _logRecordsRefused.Add(count);

    /// <summary>The retention sweep deleted records.</summary>
    public void LogRecordsExpired(int count) => _logRecordsExpired.Add(count);

    /// <summary>Counts a waiting long poll until the returned scope is disposed.</summary>
    public LongPollScope LongPoll() => new(_longPolls);

    /// <summary>Keeps one long poll counted while it waits.</summary>
    public readonly struct LongPollScope : IDisposable
    {
        private readonly UpDownCounter<long> _counter;

        internal LongPollScope(UpDownCounter<long> counter)
        {
            _counter = counter;
            _counter.Add(1);
        }

        /// <inheritdoc />
        public void Dispose() => _counter.Add(-1);
    }
}
