using Gatehouse.Edge.Operations;
using Gatehouse.Edge.Policies;
using Gatehouse.Edge.Private;
using Gatehouse.Flows;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Flows;

/// <summary>
/// What the listeners share: the policy in force, egress, open flows, limits, cautions, and the one place
/// where a finished transaction is counted and logged (<see cref="Finish"/>).
/// </summary>
public sealed class DataPath
{
    /// <summary>The longest URL a record keeps (the portal stores no more).</summary>
    public const int MaxUrlLength = 4096;

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Creates the data path.</summary>
    public DataPath(string tenantId, string edgeId, EdgePolicy policy, FlowDialer dialer, FlowRegistry flows, EdgeLimits limits, ITransactionRecorder recorder, EdgeMetrics? metrics, TimeProvider time)
    {
        TenantId = tenantId;
        EdgeId = edgeId;
        Policy = policy;
        Dialer = dialer;
        Flows = flows;
        Limits = limits;
        Recorder = recorder;
        Metrics = metrics;
        Time = time;
        Cautions = new CautionAcceptances(time);
    }

    /// <summary>The tenant this edge is enrolled in (its certificate's), in every record, bundle or not.</summary>
    public string TenantId { get; }

    /// <summary>This edge's id, in every record.</summary>
    public string EdgeId { get; }

    /// <summary>The policy and identities in force.</summary>
    public EdgePolicy Policy { get; }

    /// <summary>Resolves and connects, within egress safety.</summary>
    public FlowDialer Dialer { get; }

    /// <summary>The open flows.</summary>
    public FlowRegistry Flows { get; }

    /// <summary>Limits and timeouts.</summary>
    public EdgeLimits Limits { get; }

    /// <summary>Where records go.</summary>
    public ITransactionRecorder Recorder { get; }

    /// <summary>Where counts go.</summary>
    public EdgeMetrics? Metrics { get; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Caution acceptances.</summary>
    public CautionAcceptances Cautions { get; }

    /// <summary>The app connectors linked to this edge, which carry flows to private apps.</summary>
    internal ConnectorLinks Connectors { get; init; } = null!;

    /// <summary>Where the two ends of a relayed private flow meet; null when private flows are not relayed (<see cref="Hosting.EdgeOptions.RelayPrivateFlows"/>).</summary>
    internal RelayRendezvous? Relays { get; init; }

    /// <summary>Cancelled when the edge begins to stop: idle keep-alive connections close, open flows drain.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Starts the drain.</summary>
    public void BeginStopping() => _stopping.Cancel();

    /// <summary>Counts and logs one finished flow or request.</summary>
    /// <param name="record">The record.</param>
    public void Finish(TransactionLogRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);

        // The portal refuses a record whose URL is over its limit; a record keeps the start of a long URL.
        if (record.Url is { Length: > MaxUrlLength } url)
        {
            record = record with { Url = url[..MaxUrlLength] };
        }

        if (Metrics is { } metrics)
        {
            metrics.Transaction(record.Listener, record.Kind, record.Action);
            metrics.Carried(record.BytesUp, record.BytesDown, record.DurationMs / 1000.0);
        }

        Recorder.Record(record);
    }

    /// <summary>
    /// A flow's record with why it was cut, when it was: by the edge (idle, access revoked, stopping), or by one of its
    /// ends (a reset, a connection that broke). The action stays: the policy's decision holds for a flow cut later.
    /// </summary>
    public static TransactionLogRecord WithEnding(TransactionLogRecord record, OpenFlow flow) =>
        flow.EndedBecause is { } because ? WithReason(record, $"ended by the edge: {because}")
            : flow.BrokenBecause is { } broken ? WithReason(record, broken)
            : record;

    private static TransactionLogRecord WithReason(TransactionLogRecord record, string reason) =>
        record with { Reason = record.Reason is null ? reason : $"{record.Reason}; {reason}" };

    /// <summary>A short random reference for a refusal, shown to the user and kept in the record.</summary>
    public static string NewReferenceId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
}
