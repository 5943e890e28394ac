using System.Diagnostics.Metrics;

namespace Gatehouse.Edge.TransactionLogs;

/// <summary>
/// The pipeline's instruments. They read the sinks' own counters when scraped, so the data path pays
/// one interlocked increment for a drop and nothing for a record queued, and every series shows from
/// the first scrape, at 0.
/// </summary>
internal static class TransactionLogMetrics
{
    private static readonly (DropReason Reason, string Label)[] Reasons =
    [
        (DropReason.QueueFull, "queue_full"),
        (DropReason.Rejected, "rejected"),
        (DropReason.WriteError, "write_error"),
        (DropReason.Shutdown, "shutdown"),
    ];

    public static void Register(Meter meter, TransactionLogSink[] sinks)
    {
        var sinkTags = Array.ConvertAll(sinks, static sink => new KeyValuePair<string, object?>("sink", sink.Name));
        var dropTags = new KeyValuePair<string, object?>[sinks.Length * Reasons.Length][];
        for (var s = 0; s < sinks.Length; s++)
        {
            for (var r = 0; r < Reasons.Length; r++)
            {
                dropTags[(s * Reasons.Length) + r] = [sinkTags[s], new("reason", Reasons[r].Label)];
            }
        }

        meter.CreateObservableCounter(
            "gatehouse_edge_log_records_written",
            () =>
            {
                var measurements = new Measurement<long>[sinks.Length];
                for (var s = 0; s < sinks.Length; s++)
                {
                    measurements[s] = new Measurement<long>(sinks[s].Written, sinkTags[s]);
                }

                return measurements;
            },
            description: "Transaction log records delivered: written to the file, accepted by the portal, sent to the SIEM.");

        meter.CreateObservableCounter(
            "gatehouse_edge_log_records_dropped",
            () =>
            {
                var measurements = new Measurement<long>[dropTags.Length];
                for (var s = 0; s < sinks.Length; s++)
                {
                    for (var r = 0; r < Reasons.Length; r++)
                    {
                        var i = (s * Reasons.Length) + r;
                        measurements[i] = new Measurement<long>(sinks[s].Dropped(Reasons[r].Reason), dropTags[i]);
                    }
                }

                return measurements;
            },
            description: "Transaction log records a sink did not deliver: queue_full, rejected (by the portal), write_error, shutdown.");

        meter.CreateObservableGauge(
            "gatehouse_edge_log_queue_depth",
            () =>
            {
                var measurements = new Measurement<int>[sinks.Length];
                for (var s = 0; s < sinks.Length; s++)
                {
                    measurements[s] = new Measurement<int>(sinks[s].QueueDepth, sinkTags[s]);
                }

                return measurements;
            },
            description: "Transaction log records waiting in a sink's queue.");
    }
}
