using System.Text.Json;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;

namespace Gatehouse.Portal.Audit;

/// <summary>
/// Records admin changes in the same transaction as the change itself, so that no change
/// lands without its entry. Callers pass API views (DTOs), which never carry secrets.
/// </summary>
public sealed class AuditLog(PortalDbContext db, Caller caller, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Adds an entry; it is written by the caller's next <c>SaveChangesAsync</c>.</summary>
    public void Record(string action, string objectType, object? objectId, object? before, object? after, Guid? tenantId = null)
    {
        db.AuditLog.Add(new AuditEntry
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = tenantId ?? caller.TenantId,
            At = time.GetUtcNow(),
            ActorId = caller.IsAuthenticated ? caller.AdminId : null,
            Actor = caller.IsAuthenticated ? caller.Email : "system",
            Action = action,
            ObjectType = objectType,
            ObjectId = objectId?.ToString(),
            Before = before is null ? null : JsonSerializer.Serialize(before, Json),
            After = after is null ? null : JsonSerializer.Serialize(after, Json),
        });
    }
}
