using Gatehouse.Portal.Api;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Audit;

/// <summary>Reads the audit log; there is deliberately no route that changes it.</summary>
internal static class AuditEndpoints
{
    public static RouteGroupBuilder MapAudit(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", ListAsync).WithTags("audit");
        return api;
    }

    private static async Task<Page<AuditEntryDto>> ListAsync(
        PortalDbContext db, string? cursor, int? limit, string? action, string? actor, string? objectId, DateTimeOffset? since, DateTimeOffset? until, CancellationToken ct)
    {
        if (since is { } start && until is { } end && end <= start)
        {
            throw PortalException.Invalid("until", $"until ({end:O}) must be after since ({start:O}).");
        }

        var query = db.AuditLog.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(action))
        {
            query = action.EndsWith('.') ? query.Where(a => a.Action.StartsWith(action)) : query.Where(a => a.Action == action);
        }

        if (!string.IsNullOrWhiteSpace(actor))
        {
            query = query.Where(a => a.Actor == actor.ToLowerInvariant());
        }

        if (!string.IsNullOrWhiteSpace(objectId))
        {
            query = query.Where(a => a.ObjectId == objectId);
        }

        if (since is { } from)
        {
            query = query.Where(a => a.At >= from);
        }

        if (until is { } to)
        {
            query = query.Where(a => a.At < to);
        }

        return await query.PageAsync(a => a.Id, cursor, limit, a => a.ToDto(), ct);
    }
}
