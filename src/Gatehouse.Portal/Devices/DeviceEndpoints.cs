using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Devices;

/// <summary>Enrolled devices of the caller's tenant.</summary>
internal static class DeviceEndpoints
{
    private static readonly string[] Statuses = [DeviceStatuses.Active, DeviceStatuses.Revoked];

    public static RouteGroupBuilder MapDevices(this RouteGroupBuilder api)
    {
        var devices = api.MapGroup("/devices").WithTags("devices");
        devices.MapGet("/", ListAsync);
        devices.MapGet("/{id:guid}", GetAsync);
        devices.MapPost("/{id:guid}/revoke", RevokeAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<Page<DeviceDto>> ListAsync(PortalDbContext db, string? cursor, int? limit, string? status, Guid? userId, CancellationToken ct)
    {
        var query = db.Set<Device>().AsNoTracking();
        if (status is not null)
        {
            var wanted = Validate.OneOf(status, "status", Statuses);
            query = query.Where(d => d.Status == wanted);
        }

        if (userId is { } user)
        {
            query = query.Where(d => d.UserId == user);
        }

        var page = await query.PageAsync(d => d.Id, cursor, limit, d => d, ct);
        var emails = await EmailsAsync(db, page.Items.Select(d => d.UserId), ct);
        return new Page<DeviceDto>(page.Items.Select(d => d.ToDto(EmailOf(emails, d.UserId))).ToList(), page.NextCursor);
    }

    private static async Task<DeviceDto> GetAsync(Guid id, PortalDbContext db, CancellationToken ct)
    {
        var device = await FindAsync(db, id, ct);
        return device.ToDto(EmailOf(await EmailsAsync(db, [device.UserId], ct), device.UserId));
    }

    private static async Task<DeviceDto> RevokeAsync(Guid id, PortalDbContext db, AuditLog audit, EnrolledSubjectCache subjects, TimeProvider time, CancellationToken ct)
    {
        var device = await FindAsync(db, id, ct);
        var email = EmailOf(await EmailsAsync(db, [device.UserId], ct), device.UserId);
        if (device.Status != DeviceStatuses.Revoked)
        {
            var before = device.ToDto(email);
            device.Status = DeviceStatuses.Revoked;
            device.RevokedAt = time.GetUtcNow();
            audit.Record("device.revoke", "device", device.Id, before, device.ToDto(email));
            await db.SaveChangesAsync(ct);
            subjects.Invalidate(IdentityKinds.Device, device.Id);
        }

        return device.ToDto(email);
    }

    private static async Task<Device> FindAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<Device>().FirstOrDefaultAsync(d => d.Id == id, ct) ?? throw PortalException.NotFound("Device");

    private static async Task<Dictionary<Guid, string>> EmailsAsync(PortalDbContext db, IEnumerable<Guid?> userIds, CancellationToken ct)
    {
        var ids = userIds.OfType<Guid>().Distinct().ToList();
        return ids.Count == 0
            ? []
            : await db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email, ct);
    }

    private static string? EmailOf(Dictionary<Guid, string> emails, Guid? userId) =>
        userId is { } id && emails.TryGetValue(id, out var email) ? email : null;
}
