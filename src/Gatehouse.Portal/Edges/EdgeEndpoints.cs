using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Edges;

/// <summary>Enrolled service edges of the caller's tenant.</summary>
internal static class EdgeEndpoints
{
    private static readonly string[] Statuses = [DeviceStatuses.Active, DeviceStatuses.Revoked];

    public static RouteGroupBuilder MapEdges(this RouteGroupBuilder api)
    {
        var edges = api.MapGroup("/edges").WithTags("edges");
        edges.MapGet("/", ListAsync);
        edges.MapGet("/{id:guid}", GetAsync);
        edges.MapPost("/{id:guid}/revoke", RevokeAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<Page<EdgeDto>> ListAsync(PortalDbContext db, string? cursor, int? limit, string? status, CancellationToken ct)
    {
        var query = db.Set<Edge>().AsNoTracking();
        if (status is not null)
        {
            var wanted = Validate.OneOf(status, "status", Statuses);
            query = query.Where(e => e.Status == wanted);
        }

        return await query.PageAsync(e => e.Id, cursor, limit, e => e.ToDto(), ct);
    }

    private static async Task<EdgeDto> GetAsync(Guid id, PortalDbContext db, CancellationToken ct) => (await FindAsync(db, id, ct)).ToDto();

    private static async Task<EdgeDto> RevokeAsync(Guid id, PortalDbContext db, AuditLog audit, EnrolledSubjectCache subjects, TimeProvider time, CancellationToken ct)
    {
        var edge = await FindAsync(db, id, ct);
        if (edge.Status != DeviceStatuses.Revoked)
        {
            var before = edge.ToDto();
            edge.Status = DeviceStatuses.Revoked;
            edge.RevokedAt = time.GetUtcNow();
            audit.Record("edge.revoke", "edge", edge.Id, before, edge.ToDto());
            await db.SaveChangesAsync(ct);
            subjects.Invalidate(IdentityKinds.Edge, edge.Id);
        }

        return edge.ToDto();
    }

    private static async Task<Edge> FindAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<Edge>().FirstOrDefaultAsync(e => e.Id == id, ct) ?? throw PortalException.NotFound("Edge");
}
