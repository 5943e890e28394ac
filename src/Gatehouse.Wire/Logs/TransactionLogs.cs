using System.Text.Json.Serialization;

namespace Gatehouse.Wire.Logs;

/// <summary>What kind of event a transaction log record describes.</summary>
public static class TransactionKinds
{
    /// <summary>A TCP flow: a CONNECT through the forward proxy or one tunnel stream.</summary>
    public const string Flow = "flow";

    /// <summary>One plain-HTTP request through the forward proxy (the URL is visible).</summary>
    public const string Http = "http";
}

/// <summary>Which edge listener saw the traffic.</summary>
public static class TransactionListeners
{
    /// <summary>The agentless forward proxy (HTTP/1.1 absolute-form and CONNECT).</summary>
    public const string Proxy = "proxy";

    /// <summary>The agent tunnel listener (HTTP/2, mutual TLS).</summary>
    public const string Tunnel = "tunnel";
}

/// <summary>
/// The outcome recorded for a transaction: the policy's action (<c>allow</c>, <c>block</c>, <c>caution</c>),
/// a caution the user went past (<c>caution-continued</c>), or a refusal before policy (<c>denied</c>: no or
/// bad credentials, revoked certificate, egress to a forbidden address) and failures to reach the
/// destination (<c>error</c>).
/// </summary>
public static class TransactionActions
{
    /// <summary>Allowed by policy (or by default).</summary>
    public const string Allow = "allow";

    /// <summary>Blocked by a rule: a block page for HTTP, a 403 for CONNECT and tunnel streams.</summary>
    public const string Block = "block";

    /// <summary>A caution rule showed the interstitial.</summary>
    public const string Caution = "caution";

    /// <summary>The user went on past a caution interstitial.</summary>
    public const string CautionContinued = "caution-continued";

    /// <summary>Refused before policy: authentication, egress safety, or a TLS ClientHello that cannot be read.</summary>
    public const string Denied = "denied";

    /// <summary>Allowed, but the destination could not be reached or the flow failed.</summary>
    public const string Error = "error";
}

/// <summary>
/// One transaction log record: one flow, or one HTTP request, as an edge saw it. The edge writes it to
/// its JSON-lines files, ships it to the portal in batches and streams it to a SIEM.
/// </summary>
/// <param name="Time">When the flow or request started.</param>
/// <param name="TenantId">The tenant whose policy decided.</param>
/// <param name="EdgeId">The edge that saw it.</param>
/// <param name="Kind"><see cref="TransactionKinds"/>.</param>
/// <param name="Listener"><see cref="TransactionListeners"/>.</param>
/// <param name="Action"><see cref="TransactionActions"/>.</param>
/// <param name="ClientAddress">The client's address and port as the edge saw them.</param>
/// <param name="Host">The destination host name (or the address as text when the client gave an address).</param>
/// <param name="Port">The destination port.</param>
/// <param name="UserId">The user, when known.</param>
/// <param name="UserEmail">The user's email, when known.</param>
/// <param name="DeviceId">The device, for tunnel flows.</param>
/// <param name="DestinationIp">The address the edge connected to (or would have), when resolved.</param>
/// <param name="Method">The HTTP method, for HTTP requests (and <c>CONNECT</c>).</param>
/// <param name="Url">The full URL, for plain-HTTP requests.</param>
/// <param name="Status">The HTTP status the client got, where there is one.</param>
/// <param name="Category">The destination's URL category, if any.</param>
/// <param name="Rule">The name of the rule that decided; null for the default.</param>
/// <param name="Reason">
/// Why a flow was refused or failed, in plain words; for an allowed flow cut later, who cut it and why ("ended by the
/// edge: …", "the destination reset the connection").
/// </param>
/// <param name="ReferenceId">The reference shown on a block page or in a 403, to find this record.</param>
/// <param name="BytesUp">Bytes from the client to the destination.</param>
/// <param name="BytesDown">Bytes from the destination to the client.</param>
/// <param name="DurationMs">How long the flow or request lasted, in milliseconds.</param>
/// <param name="Sni">
/// The server name (SNI) of the TLS ClientHello the client sent first on a CONNECT or tunnel flow, lower case, when
/// one was read (also when it refused the flow); null for other flows and requests.
/// </param>
/// <remarks>Unknown fields are skipped, not refused: a node newer than its portal may add one (docs/operations.md, "Upgrading").</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record TransactionLogRecord(
    DateTimeOffset Time,
    string TenantId,
    string EdgeId,
    string Kind,
    string Listener,
    string Action,
    string ClientAddress,
    string Host,
    int Port,
    string? UserId = null,
    string? UserEmail = null,
    string? DeviceId = null,
    string? DestinationIp = null,
    string? Method = null,
    string? Url = null,
    int? Status = null,
    string? Category = null,
    string? Rule = null,
    string? Reason = null,
    string? ReferenceId = null,
    long BytesUp = 0,
    long BytesDown = 0,
    long DurationMs = 0,
    string? Sni = null);

/// <summary>
/// A batch of records an edge ships to the portal: <c>POST /api/v1/edge/logs</c> with the edge's client
/// certificate. The portal stores them under the edge's tenant (the certificate's, never a field's) and
/// answers <c>202</c> with <see cref="TransactionLogBatchResult"/>; a record with a bad field is refused alone.
/// </summary>
/// <param name="Records">At most <see cref="MaxRecords"/> records.</param>
/// <remarks>Unknown fields are skipped, not refused: a node newer than its portal may add one (docs/operations.md, "Upgrading").</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record TransactionLogBatch(IReadOnlyList<TransactionLogRecord> Records)
{
    /// <summary>The most records one batch may carry.</summary>
    public const int MaxRecords = 1000;

    /// <summary>The path the edge posts batches to, under the portal's base address.</summary>
    public const string Path = "/api/v1/edge/logs";
}

/// <summary>
/// What the portal did with a batch: the records it stored, and those it refused one by one for a bad field of their
/// own, with the problems of the first few. The rest of a batch is stored when some of its records are refused.
/// </summary>
/// <param name="Accepted">Records stored.</param>
/// <param name="Refused">Records refused, the exact count; 0 from a portal that refuses whole batches.</param>
/// <param name="Problems">
/// The problems of the first refused records, in order, at most <see cref="MaxProblems"/>; null from a portal that
/// does not list them.
/// </param>
public sealed record TransactionLogBatchResult(int Accepted, int Refused = 0, IReadOnlyList<TransactionLogRecordProblem>? Problems = null)
{
    /// <summary>The most problems an answer lists, so that it stays small (an edge reads at most 64 KiB of it).</summary>
    public const int MaxProblems = 10;
}

/// <summary>Why the portal refused one record of a batch.</summary>
/// <param name="Index">The record's place in the batch, from 0.</param>
/// <param name="Field">The field at fault as a JSON path, such as <c>records[3].reason</c>.</param>
/// <param name="Detail">What is wrong with it, in words; at most <see cref="MaxDetailLength"/> characters.</param>
public sealed record TransactionLogRecordProblem(int Index, string Field, string Detail)
{
    /// <summary>The longest detail: a detail quotes a bad value, which may be long.</summary>
    public const int MaxDetailLength = 500;
}

/// <summary>A stored transaction log record as the portal lists it (<c>GET /api/v1/logs</c>).</summary>
/// <param name="Id">The stored record's id (time-ordered).</param>
/// <param name="Record">The record as the edge sent it.</param>
public sealed record TransactionLogEntryDto(Guid Id, TransactionLogRecord Record);
