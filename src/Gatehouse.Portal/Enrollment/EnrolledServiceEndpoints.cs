using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Enrollment;

/// <summary>
/// The admin routes every enrolled service (edges, app connectors) has: list, show and revoke.
/// Devices have their own, since they also carry their user.
/// </summary>
internal static class EnrolledServiceEndpoints
{
    private static readonly string[] Statuses = [DeviceStatuses.Active, DeviceStatuses.Revoked];

    /// <summary>Maps <c>GET /{path}</c>, <c>GET /{path}/{id}</c> and <c>POST /{path}/{id}/revoke</c>.</summary>
    /// <param name="api">The API group.</param>
    /// <param name="path">The collection, for example <c>edges</c>.</param>
    /// <param name="kind">The identity kind (<c>edge</c>, <c>connector</c>), also the audit object type.</param>
    /// <param name="toDto">The API view.</param>
    public static RouteGroupBuilder MapEnrolledServices<TEntity, TDto>(this RouteGroupBuilder api, string path, string kind, Func<TEntity, TDto> toDto)
        where TEntity : class, IEnrolledSubject
    {
        var routes = api.MapGroup($"/{path}").WithTags(path);
        routes.MapGet("/", (PortalDbContext db, string? cursor, int? limit, string? status, CancellationToken ct) => ListAsync(db, cursor, limit, status, toDto, ct));
        routes.MapGet("/{id:guid}", async (Guid id, PortalDbContext db, CancellationToken ct) => toDto(await FindAsync<TEntity>(db, id, kind, ct)));
        routes.MapPost("/{id:guid}/revoke", (Guid id, PortalDbContext db, AuditLog audit, EnrolledSubjectCache subjects, TimeProvider time, CancellationToken ct) =>
            RevokeAsync(id, kind, toDto, db, audit, subjects, time, ct)).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<Page<TDto>> ListAsync<TEntity, TDto>(PortalDbContext db, string? cursor, int? limit, string? status, Func<TEntity, TDto> toDto, CancellationToken ct)
        where TEntity : class, IEnrolledSubject
    {
        var query = db.Set<TEntity>().AsNoTracking();
        if (status is not null)
        {
            var wanted = Validate.OneOf(status, "status", Statuses);
            query = query.Where(e => e.Status == wanted);
        }

        return await query.PageAsync(e => e.Id, cursor, limit, toDto, ct);
    }

    private static async Task<TDto> RevokeAsync<TEntity, TDto>(
        Guid id, string kind, Func<TEntity, TDto> toDto, PortalDbContext db, AuditLog audit, EnrolledSubjectCache subjects, TimeProvider time, CancellationToken ct)
        where TEntity : class, IEnrolledSubject
    {
        var subject = await FindAsync<TEntity>(db, id, kind, ct);
        if (subject.Status != DeviceStatuses.Revoked)
        {
            var before = toDto(subject);
            subject.Status = DeviceStatuses.Revoked;
            subject.RevokedAt = time.GetUtcNow();
            audit.Record($"{kind}.revoke", kind, subject.Id, before, toDto(subject));
            await db.SaveChangesAsync(ct);
            subjects.Invalidate(kind, subject.Id);
        }

        return toDto(subject);
    }

    private static async Task<TEntity> FindAsync<TEntity>(PortalDbContext db, Guid id, string kind, CancellationToken ct)
        where TEntity : class, IEnrolledSubject =>
        await db.Set<TEntity>().FirstOrDefaultAsync(e => e.Id == id, ct) ?? throw PortalException.NotFound($"The {kind}");
}
