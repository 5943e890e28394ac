using Gatehouse.Wire.Logs;

namespace Gatehouse.Portal.Logs;

/// <summary>Stored transaction log rows to API views.</summary>
public static class TransactionLogViews
{
    /// <summary>The API view: the record as stored (tenant and edge of the sending certificate, host and email lower case).</summary>
    public static TransactionLogEntryDto ToDto(this TransactionLogEntry e) => new(e.Id, new TransactionLogRecord(
        e.Time, e.TenantId.ToString(), e.EdgeId.ToString(), e.Kind, e.Listener, e.Action, e.ClientAddress, e.Host, e.Port,
        e.UserId?.ToString(), e.UserEmail, e.DeviceId?.ToString(), e.DestinationIp, e.Method, e.Url, e.Status,
        e.Category, e.Rule, e.Reason, e.ReferenceId, e.BytesUp, e.BytesDown, e.DurationMs, e.Sni));
}
