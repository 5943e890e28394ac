using System.Globalization;
using Gatehouse.Portal.Api;
using Gatehouse.Wire.Addresses;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Portal.Logs;

/// <summary>
/// Checks a batch from an edge and turns it into rows. A bad field refuses its record alone, named as
/// <c>records[i].field</c>, and the other records are stored: one bad record must not lose a thousand good ones. The
/// tenant and edge come from the certificate: a record naming another one refuses the whole batch, never relabelled,
/// as the edge that sent it is misconfigured or lying and no part of its batch can be trusted.
/// </summary>
public static class TransactionLogValidator
{
    /// <summary>The longest kind, listener, action or method.</summary>
    public const int MaxTokenLength = 32;

    /// <summary>The longest client or destination address (<c>[v6]:port</c> fits) and reference id.</summary>
    public const int MaxAddressLength = 64;

    /// <summary>The longest host: a DNS name.</summary>
    public const int MaxHostLength = 253;

    /// <summary>The longest user email.</summary>
    public const int MaxEmailLength = 254;

    /// <summary>The longest URL; an edge shortens longer ones before it sends them.</summary>
    public const int MaxUrlLength = 4096;

    /// <summary>The longest rule or category name (as the portal allows them).</summary>
    public const int MaxNameLength = 100;

    /// <summary>The longest reason.</summary>
    public const int MaxReasonLength = 1000;

    /// <summary>How far ahead of the portal's clock a record's time may be (edge clocks drift).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromDays(1);

    /// <summary>The earliest time a record may have.</summary>
    public static readonly DateTimeOffset MinTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] Kinds = [TransactionKinds.Flow, TransactionKinds.Http];
    private static readonly string[] Listeners = [TransactionListeners.Proxy, TransactionListeners.Tunnel];

    /// <summary>Every value of <see cref="TransactionActions"/>.</summary>
    public static readonly IReadOnlyList<string> Actions =
    [
        TransactionActions.Allow, TransactionActions.Block, TransactionActions.Caution,
        TransactionActions.CautionContinued, TransactionActions.Denied, TransactionActions.Error,
    ];

    /// <summary>Checks every record of <paramref name="batch"/>: the rows to store, in order, and the records refused.</summary>
    /// <param name="batch">The batch as received.</param>
    /// <param name="tenantId">The tenant of the sending edge's certificate.</param>
    /// <param name="edgeId">The sending edge.</param>
    /// <param name="now">The portal's clock.</param>
    /// <exception cref="PortalException">
    /// The batch as a whole is refused: no records, too many, or a record of another tenant or edge.
    /// </exception>
    public static CheckedLogBatch Check(TransactionLogBatch batch, Guid tenantId, Guid edgeId, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var records = batch.Records ?? throw PortalException.Invalid("records", "records is required.");
        if (records.Count == 0)
        {
            // A 202 that stored nothing would read as success; an edge sends no empty batch.
            throw PortalException.Invalid("records", $"records is empty; a batch carries 1 to {TransactionLogBatch.MaxRecords} records.");
        }

        if (records.Count > TransactionLogBatch.MaxRecords)
        {
            throw PortalException.Invalid("records", $"A batch may carry at most {TransactionLogBatch.MaxRecords} records; this one has {records.Count}. Send them in several batches.");
        }

        for (var i = 0; i < records.Count; i++)
        {
            EnsureOfSender(records[i], i, tenantId, edgeId);
        }

        var entries = new List<TransactionLogEntry>(records.Count);
        var problems = new List<TransactionLogRecordProblem>();
        var refused = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var check = new RecordCheck(i);
            var entry = ToEntry(records[i], ref check, tenantId, edgeId, now);
            if (check.Problem is not { } problem)
            {
                entries.Add(entry!);
                continue;
            }

            refused++;
            if (problems.Count < TransactionLogBatchResult.MaxProblems)
            {
                problems.Add(problem);
            }
        }

        return new CheckedLogBatch(entries, refused, problems);
    }

    private static void EnsureOfSender(TransactionLogRecord? record, int index, Guid tenantId, Guid edgeId)
    {
        if (record is null)
        {
            return;
        }

        if (!Guid.TryParse(record.TenantId, out var tenant) || tenant != tenantId)
        {
            throw PortalException.Invalid($"records[{index}].tenantId", $"records[{index}].tenantId is '{record.TenantId}', but the certificate that sent the batch is of tenant {tenantId}; nothing of the batch was stored.");
        }

        if (!Guid.TryParse(record.EdgeId, out var edge) || edge != edgeId)
        {
            throw PortalException.Invalid($"records[{index}].edgeId", $"records[{index}].edgeId is '{record.EdgeId}', but the certificate that sent the batch is of edge {edgeId}; nothing of the batch was stored.");
        }
    }

    /// <summary>The row of <paramref name="record"/>, or null with the record's first problem in <paramref name="check"/>.</summary>
    private static TransactionLogEntry? ToEntry(TransactionLogRecord? record, ref RecordCheck check, Guid tenantId, Guid edgeId, DateTimeOffset now)
    {
        if (record is null)
        {
            check.FailRecord("must be a record, not null.");
            return null;
        }

        if (record.Time < MinTime || record.Time > now + MaxClockSkew)
        {
            check.Fail("time", string.Create(CultureInfo.InvariantCulture,
                $"{check.Field("time")} {record.Time:O} is before {MinTime:yyyy} or more than {MaxClockSkew.TotalHours:0} hours ahead of the portal's clock ({now:O})."));
        }

        if (record.Port is < 0 or > 65535)
        {
            check.Fail("port", $"{check.Field("port")} must be between 0 and 65535.");
        }

        if (record.Status is < 100 or > 599)
        {
            check.Fail("status", $"{check.Field("status")} must be an HTTP status (100-599).");
        }

        check.NotNegative(record.BytesUp, "bytesUp");
        check.NotNegative(record.BytesDown, "bytesDown");
        check.NotNegative(record.DurationMs, "durationMs");
        if (check.Problem is not null)
        {
            // The row is not made: its id is made from the time, which may be out of any range.
            return null;
        }

        var entry = new TransactionLogEntry
        {
            Id = TransactionLogIds.For(record.Time),
            TenantId = tenantId,
            EdgeId = edgeId,
            // PostgreSQL stores timestamptz in UTC and Npgsql refuses other offsets.
            Time = record.Time.ToUniversalTime(),
            Kind = check.OneOf(record.Kind, "kind", Kinds),
            Listener = check.OneOf(record.Listener, "listener", Listeners),
            Action = check.OneOf(record.Action, "action", Actions),
            ClientAddress = check.Required(record.ClientAddress, "clientAddress", MaxAddressLength),
            Host = NamesNoDestination(record) ? string.Empty : check.Host(check.Required(record.Host, "host", MaxHostLength + 1), "host"),
            Port = record.Port,
            UserId = check.OptionalId(record.UserId, "userId"),
            UserEmail = check.Optional(record.UserEmail, "userEmail", MaxEmailLength)?.ToLowerInvariant(),
            DeviceId = check.OptionalId(record.DeviceId, "deviceId"),
            DestinationIp = check.Optional(record.DestinationIp, "destinationIp", MaxAddressLength),
            Method = check.Optional(record.Method, "method", MaxTokenLength),
            Url = check.Optional(record.Url, "url", MaxUrlLength),
            Status = record.Status,
            Category = check.Optional(record.Category, "category", MaxNameLength),
            Rule = check.Optional(record.Rule, "rule", MaxNameLength),
            Reason = check.Optional(record.Reason, "reason", MaxReasonLength),
            ReferenceId = check.Optional(record.ReferenceId, "referenceId", MaxAddressLength),
            BytesUp = record.BytesUp,
            BytesDown = record.BytesDown,
            DurationMs = record.DurationMs,
            Sni = check.Optional(record.Sni, "sni", MaxHostLength)?.ToLowerInvariant(),
        };
        return check.Problem is null ? entry : null;
    }

    /// <summary>
    /// Whether the record is of a request refused before it named a destination (a head the edge could not read, a target
    /// that does not parse): denied, with no host.
    /// </summary>
    private static bool NamesNoDestination(TransactionLogRecord record) => record is { Host: "", Action: TransactionActions.Denied };

    /// <summary>
    /// The checks of one record's fields. A failed check keeps the record's first problem and answers a stand-in value,
    /// so that the record reads as one list of fields and a bad record costs no exception.
    /// </summary>
    private struct RecordCheck(int index)
    {
        /// <summary>The record's first problem; null while every check passed.</summary>
        public TransactionLogRecordProblem? Problem { get; private set; }

        /// <summary>The field's JSON path, such as <c>records[3].reason</c>.</summary>
        public readonly string Field(string name) => $"records[{index}].{name}";

        public void FailRecord(string problem)
        {
            var record = $"records[{index}]";
            Keep(record, $"{record} {problem}");
        }

        public void Fail(string name, string detail) => Keep(Field(name), detail);

        public void NotNegative(long value, string name)
        {
            if (value < 0)
            {
                Fail(name, $"{Field(name)} must not be negative.");
            }
        }

        public string OneOf(string? value, string name, IReadOnlyCollection<string> allowed)
        {
            if (value is not null && allowed.Contains(value))
            {
                return value;
            }

            Fail(name, $"{Field(name)} must be one of {string.Join(", ", allowed)}; got '{value}'.");
            return string.Empty;
        }

        public string Required(string? value, string name, int max)
        {
            var text = Optional(value, name, max);
            if (text is { Length: > 0 })
            {
                return text;
            }

            Fail(name, $"{Field(name)} must not be empty.");
            return string.Empty;
        }

        /// <summary>
        /// Text of at most <paramref name="max"/> characters without control characters: logs end up in terminals
        /// (<c>gatehouse logs query</c>) and SIEMs, where an escape sequence or a newline forges what people see.
        /// </summary>
        public string? Optional(string? value, string name, int max)
        {
            if (value is null)
            {
                return null;
            }

            if (value.Length > max)
            {
                Fail(name, $"{Field(name)} must be at most {max} characters; it has {value.Length}.");
                return null;
            }

            if (value.AsSpan().ContainsAnyInRange('\u0000', '\u001f') || value.AsSpan().ContainsAnyInRange('\u007f', '\u009f'))
            {
                Fail(name, $"{Field(name)} must not contain control characters.");
                return null;
            }

            return value;
        }

        public Guid? OptionalId(string? value, string name)
        {
            if (value is null)
            {
                return null;
            }

            if (Guid.TryParse(value, out var id))
            {
                return id;
            }

            Fail(name, $"{Field(name)} must be an id (a UUID); got '{value}'.");
            return null;
        }

        /// <summary>
        /// A host lower-cased without a final dot, as policy compares hosts, and an address in its canonical text, so that
        /// the host filter (<see cref="TransactionHostFilter"/>) finds what edges send in any spelling.
        /// </summary>
        public string Host(string host, string name)
        {
            var normalized = host.TrimEnd('.').ToLowerInvariant();
            if (normalized.Length is 0 or > MaxHostLength || normalized.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                Fail(name, $"{Field(name)} must be a host name or address of 1-{MaxHostLength} characters without spaces; got '{host}'.");
                return string.Empty;
            }

            // An address in one spelling (2001:db8::1, no brackets), the one the host filter reads it in: the forward proxy
            // records the host as the client wrote it.
            return AddressLiteral.TryParse(normalized, out var address) ? address.ToString() : normalized;
        }

        /// <summary>Keeps the first problem only: it is the one a fix starts with, and later ones may follow from it.</summary>
        private void Keep(string field, string detail) =>
            Problem ??= new TransactionLogRecordProblem(index, field, Shorten(detail));

        private static string Shorten(string detail)
        {
            const int max = TransactionLogRecordProblem.MaxDetailLength;
            if (detail.Length <= max)
            {
                return detail;
            }

            // Never half a surrogate pair: the answer is JSON.
            var cut = char.IsHighSurrogate(detail[max - 2]) ? max - 2 : max - 1;
            return string.Concat(detail.AsSpan(0, cut), "…");
        }
    }
}

/// <summary>A batch checked: the rows to store, in order, and the records refused for a bad field of their own.</summary>
/// <param name="Entries">The rows of the valid records, in the batch's order.</param>
/// <param name="Refused">How many records were refused.</param>
/// <param name="Problems">The problems of the first refused records, at most <see cref="TransactionLogBatchResult.MaxProblems"/>.</param>
public sealed record CheckedLogBatch(List<TransactionLogEntry> Entries, int Refused, IReadOnlyList<TransactionLogRecordProblem> Problems);
