using System.Globalization;
using Gatehouse.Portal.Api;
using Gatehouse.Wire.Addresses;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Portal.Logs;

/// <summary>
/// Checks a batch from an edge and turns it into rows. The first bad field refuses the whole batch with
/// <c>records[i].field</c>, so that nothing of it is stored and the edge learns exactly what to fix. The
/// tenant and edge come from the certificate: a record naming another one is refused, never relabelled.
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

    /// <summary>Checks every record of <paramref name="batch"/> and returns the rows to store, in order.</summary>
    /// <param name="batch">The batch as received.</param>
    /// <param name="tenantId">The tenant of the sending edge's certificate.</param>
    /// <param name="edgeId">The sending edge.</param>
    /// <param name="now">The portal's clock.</param>
    public static List<TransactionLogEntry> ToEntries(TransactionLogBatch batch, Guid tenantId, Guid edgeId, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var records = batch.Records ?? throw PortalException.Invalid("records", "records is required.");
        if (records.Count > TransactionLogBatch.MaxRecords)
        {
            throw PortalException.Invalid("records", $"A batch may carry at most {TransactionLogBatch.MaxRecords} records; this one has {records.Count}. Send them in several batches.");
        }

        var entries = new List<TransactionLogEntry>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            entries.Add(ToEntry(records[i], $"records[{i}]", tenantId, edgeId, now));
        }

        return entries;
    }

    private static TransactionLogEntry ToEntry(TransactionLogRecord? record, string at, Guid tenantId, Guid edgeId, DateTimeOffset now)
    {
        if (record is null)
        {
            throw PortalException.Invalid(at, $"{at} must be a record, not null.");
        }

        if (!Guid.TryParse(record.TenantId, out var tenant) || tenant != tenantId)
        {
            throw PortalException.Invalid($"{at}.tenantId", $"{at}.tenantId is '{record.TenantId}', but the certificate that sent the batch is of tenant {tenantId}; nothing of the batch was stored.");
        }

        if (!Guid.TryParse(record.EdgeId, out var edge) || edge != edgeId)
        {
            throw PortalException.Invalid($"{at}.edgeId", $"{at}.edgeId is '{record.EdgeId}', but the certificate that sent the batch is of edge {edgeId}; nothing of the batch was stored.");
        }

        if (record.Time < MinTime || record.Time > now + MaxClockSkew)
        {
            throw PortalException.Invalid($"{at}.time", string.Create(CultureInfo.InvariantCulture,
                $"{at}.time {record.Time:O} is before {MinTime:yyyy} or more than {MaxClockSkew.TotalHours:0} hours ahead of the portal's clock ({now:O})."));
        }

        if (record.Port is < 0 or > 65535)
        {
            throw PortalException.Invalid($"{at}.port", $"{at}.port must be between 0 and 65535.");
        }

        if (record.Status is < 100 or > 599)
        {
            throw PortalException.Invalid($"{at}.status", $"{at}.status must be an HTTP status (100-599).");
        }

        NotNegative(record.BytesUp, at, "bytesUp");
        NotNegative(record.BytesDown, at, "bytesDown");
        NotNegative(record.DurationMs, at, "durationMs");

        return new TransactionLogEntry
        {
            Id = Guid.CreateVersion7(record.Time),
            TenantId = tenantId,
            EdgeId = edgeId,
            // PostgreSQL stores timestamptz in UTC and Npgsql refuses other offsets.
            Time = record.Time.ToUniversalTime(),
            Kind = Validate.OneOf(record.Kind, $"{at}.kind", Kinds),
            Listener = Validate.OneOf(record.Listener, $"{at}.listener", Listeners),
            Action = Validate.OneOf(record.Action, $"{at}.action", Actions),
            ClientAddress = Required(record.ClientAddress, at, "clientAddress", MaxAddressLength),
            Host = NamesNoDestination(record) ? string.Empty : NormalizeHost(Required(record.Host, at, "host", MaxHostLength + 1), $"{at}.host"),
            Port = record.Port,
            UserId = OptionalId(record.UserId, at, "userId"),
            UserEmail = Optional(record.UserEmail, at, "userEmail", MaxEmailLength)?.ToLowerInvariant(),
            DeviceId = OptionalId(record.DeviceId, at, "deviceId"),
            DestinationIp = Optional(record.DestinationIp, at, "destinationIp", MaxAddressLength),
            Method = Optional(record.Method, at, "method", MaxTokenLength),
            Url = Optional(record.Url, at, "url", MaxUrlLength),
            Status = record.Status,
            Category = Optional(record.Category, at, "category", MaxNameLength),
            Rule = Optional(record.Rule, at, "rule", MaxNameLength),
            Reason = Optional(record.Reason, at, "reason", MaxReasonLength),
            ReferenceId = Optional(record.ReferenceId, at, "referenceId", MaxAddressLength),
            BytesUp = record.BytesUp,
            BytesDown = record.BytesDown,
            DurationMs = record.DurationMs,
            Sni = Optional(record.Sni, at, "sni", MaxHostLength)?.ToLowerInvariant(),
        };
    }

    /// <summary>
    /// Whether the record is of a request refused before it named a destination (a head the edge could not read, a target
    /// that does not parse): denied, with no host. Refusing it would refuse its whole batch, and every other record in it.
    /// </summary>
    private static bool NamesNoDestination(TransactionLogRecord record) => record is { Host: "", Action: TransactionActions.Denied };

    /// <summary>
    /// A host lower-cased without a final dot, as policy compares hosts, and an address in its canonical text, so that the
    /// host filter (<see cref="TransactionHostFilter"/>) finds what edges send in any spelling.
    /// </summary>
    /// <param name="host">The host as given.</param>
    /// <param name="field">The field to name when it is refused.</param>
    public static string NormalizeHost(string host, string field)
    {
        ArgumentNullException.ThrowIfNull(host);
        var normalized = host.TrimEnd('.').ToLowerInvariant();
        if (normalized.Length is 0 or > MaxHostLength || normalized.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw PortalException.Invalid(field, $"{field} must be a host name or address of 1-{MaxHostLength} characters without spaces; got '{host}'.");
        }

        // An address in one spelling (2001:db8::1, no brackets), the one the host filter reads it in: the forward proxy
        // records the host as the client wrote it.
        return AddressLiteral.TryParse(normalized, out var address) ? address.ToString() : normalized;
    }

    private static string Required(string? value, string at, string name, int max) =>
        Optional(value, at, name, max) is { Length: > 0 } text ? text : throw PortalException.Invalid($"{at}.{name}", $"{at}.{name} must not be empty.");

    /// <summary>
    /// Text of at most <paramref name="max"/> characters without control characters: logs end up in terminals
    /// (<c>gatehouse logs query</c>) and SIEMs, where an escape sequence or a newline forges what people see.
    /// </summary>
    private static string? Optional(string? value, string at, string name, int max)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > max)
        {
            throw PortalException.Invalid($"{at}.{name}", $"{at}.{name} must be at most {max} characters; it has {value.Length}.");
        }

        if (value.AsSpan().ContainsAnyInRange('\u0000', '\u001f') || value.AsSpan().ContainsAnyInRange('\u007f', '\u009f'))
        {
            throw PortalException.Invalid($"{at}.{name}", $"{at}.{name} must not contain control characters.");
        }

        return value;
    }

    private static Guid? OptionalId(string? value, string at, string name) =>
        value is null ? null
        : Guid.TryParse(value, out var id) ? id
        : throw PortalException.Invalid($"{at}.{name}", $"{at}.{name} must be an id (a UUID); got '{value}'.");

    private static void NotNegative(long value, string at, string name)
    {
        if (value < 0)
        {
            throw PortalException.Invalid($"{at}.{name}", $"{at}.{name} must not be negative.");
        }
    }
}
