namespace Gatehouse.Portal.Logs;

/// <summary>
/// One transaction log record as stored: what an edge sent (<see cref="Wire.Logs.TransactionLogRecord"/>),
/// under the tenant and edge of the certificate that sent it. Written only by ingestion, removed only by the
/// retention sweep; neither is an admin change, so neither is audited nor republishes a bundle.
/// </summary>
public sealed class TransactionLogEntry : Storage.ITenantOwned
{
    /// <summary>UUID v7 made from <see cref="Time"/>, so that ordering by id is ordering by when it happened.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant of the edge's certificate.</summary>
    public Guid TenantId { get; set; }

    /// <summary>The edge whose certificate sent the record.</summary>
    public Guid EdgeId { get; set; }

    /// <summary>When the flow or request started (UTC).</summary>
    public DateTimeOffset Time { get; set; }

    /// <summary><see cref="Wire.Logs.TransactionKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary><see cref="Wire.Logs.TransactionListeners"/>.</summary>
    public required string Listener { get; set; }

    /// <summary><see cref="Wire.Logs.TransactionActions"/>.</summary>
    public required string Action { get; set; }

    /// <summary>The client's address and port as the edge saw them.</summary>
    public required string ClientAddress { get; set; }

    /// <summary>The destination host, lower case, without a final dot.</summary>
    public required string Host { get; set; }

    /// <summary>The destination port.</summary>
    public int Port { get; set; }

    /// <summary>The user, when known.</summary>
    public Guid? UserId { get; set; }

    /// <summary>The user's email (lower case), when known.</summary>
    public string? UserEmail { get; set; }

    /// <summary>The device, for tunnel flows.</summary>
    public Guid? DeviceId { get; set; }

    /// <summary>The address the edge connected to, when resolved.</summary>
    public string? DestinationIp { get; set; }

    /// <summary>The HTTP method.</summary>
    public string? Method { get; set; }

    /// <summary>The full URL of a plain-HTTP request.</summary>
    public string? Url { get; set; }

    /// <summary>The HTTP status the client got.</summary>
    public int? Status { get; set; }

    /// <summary>The destination's URL category.</summary>
    public string? Category { get; set; }

    /// <summary>The rule that decided; null for the default.</summary>
    public string? Rule { get; set; }

    /// <summary>Why a flow was refused or failed.</summary>
    public string? Reason { get; set; }

    /// <summary>The reference shown on a block page or in a 403.</summary>
    public string? ReferenceId { get; set; }

    /// <summary>Bytes from the client to the destination.</summary>
    public long BytesUp { get; set; }

    /// <summary>Bytes from the destination to the client.</summary>
    public long BytesDown { get; set; }

    /// <summary>How long the flow or request lasted, in milliseconds.</summary>
    public long DurationMs { get; set; }

    /// <summary>The TLS server name (SNI) the client sent first on a CONNECT or tunnel flow, lower case, when one was read.</summary>
    public string? Sni { get; set; }
}
