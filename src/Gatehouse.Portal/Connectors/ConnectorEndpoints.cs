using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Connectors;

/// <summary>Enrolled app connectors of the caller's tenant.</summary>
internal static class ConnectorEndpoints
{
    private static readonly string[] Statuses = [DeviceStatuses.Active, DeviceStatuses.Revoked];

    public static RouteGroupBuilder MapConnectors(this RouteGroupBuilder api)
    {
        var connectors = api.MapGroup("/connectors").WithTags("connectors");
        connectors.MapGet("/", ListAsync);
        connectors.MapGet("/{id:guid}", GetAsync);
        connectors.MapPost("/{id:guid}/revoke", RevokeAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<Page<ConnectorDto>> ListAsync(PortalDbContext db, string? cursor, int? limit, string? status, CancellationToken ct)
    {
        var query = db.Set<Connector>().AsNoTracking();
        if (status is not null)
        {
            var wanted = Validate.OneOf(status, "status", Statuses);
            query = query.Where(e => e.Status == wanted);
        }

        return await query.PageAsync(e => e.Id, cursor, limit, e => e.ToDto(), ct);
    }

    private static async Task<ConnectorDto> GetAsync(Guid id, PortalDbContext db, CancellationToken ct) => (await FindAsync(db, id, ct)).ToDto();

    private static async Task<ConnectorDto> RevokeAsync(Guid id, PortalDbContext db, AuditLog audit, EnrolledSubjectCache subjects, TimeProvider time, CancellationToken ct)
    {
        var connector = await FindAsync(db, id, ct);
        if (connector.Status != DeviceStatuses.Revoked)
        {
            var before = connector.ToDto();
            connector.Status = DeviceStatuses.Revoked;
            connector.RevokedAt = time.GetUtcNow();
            audit.Record("connector.revoke", "connector", connector.Id, before, connector.ToDto());
            await db.SaveChangesAsync(ct);
            subjects.Invalidate(IdentityKinds.Connector, connector.Id);
        }

        return connector.ToDto();
    }

    private static async Task<Connector> FindAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<Connector>().FirstOrDefaultAsync(e => e.Id == id, ct) ?? throw PortalException.NotFound("Connector");
}
