using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Devices;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Users;
using Microsoft.EntityFrameworkCore;
using Gatehouse.Wire.Config;

namespace Gatehouse.Portal.Config;

/// <summary>
/// <c>GET /config/{consumer}</c>: the signed bundle for an enrolled device, edge or connector,
/// with ETag and long poll. Served from memory; the only database read is authentication's, and
/// that is cached.
/// </summary>
internal static class ConfigEndpoints
{
    public const int DefaultWaitSeconds = 30;
    public const int MaxWaitSeconds = 60;

    private static readonly TimeSpan FirstPublishTimeout = TimeSpan.FromSeconds(10);

    public static RouteGroupBuilder MapConfig(this RouteGroupBuilder api)
    {
        api.MapGet("/config/{consumer}", GetAsync).RequireAuthorization(CertificateAuthenticationHandler.Policy).WithTags("config");
        api.MapGet("/config/agent/self", SelfAsync).RequireAuthorization(CertificateAuthenticationHandler.Policy).WithTags("config");
        return api;
    }

    /// <summary>The calling device's user and the user's groups (<see cref="DeviceSelf"/>).</summary>
    private static async Task<DeviceSelf> SelfAsync(CertificateCaller caller, PortalDbContext db, CancellationToken ct)
    {
        if (caller.Kind != Trust.Certificates.IdentityKinds.Device)
        {
            throw PortalException.Forbidden($"A {caller.Kind} certificate has no user: /config/agent/self is for devices.");
        }

        var device = await db.Set<Device>().IgnoreQueryFilters().AsNoTracking()
            .SingleOrDefaultAsync(d => d.TenantId == caller.TenantId && d.Id == caller.SubjectId, ct)
            ?? throw PortalException.NotFound($"Device {caller.SubjectId}");
        if (device.UserId is not { } userId)
        {
            return new DeviceSelf(device.Id, null, null, []);
        }

        var email = await db.Set<User>().IgnoreQueryFilters().AsNoTracking()
            .Where(u => u.TenantId == caller.TenantId && u.Id == userId).Select(u => u.Email).SingleOrDefaultAsync(ct);
        var groups = await db.Set<GroupMembership>().IgnoreQueryFilters().AsNoTracking()
            .Where(m => m.TenantId == caller.TenantId && m.UserId == userId).Select(m => m.GroupId).ToListAsync(ct);
        return new DeviceSelf(device.Id, userId, email, [.. groups.Order()]);
    }

    /// <summary>
    /// Notes whether an edge follows the DR bundle, before a DR bundle is known to exist: a DR edge whose settings were
    /// deleted still enforces its last DR policy, and must not become agents' everyday edge then. Written only on a change.
    /// </summary>
    private static async Task NoteDrFollowingAsync(PortalDbContext db, CertificateCaller caller, bool followsDr, CancellationToken ct)
    {
        var edge = await db.Set<Edges.Edge>().FirstOrDefaultAsync(e => e.Id == caller.SubjectId, ct);
        if (edge is not null && edge.FollowsDr != followsDr)
        {
            edge.FollowsDr = followsDr;
            await db.SaveChangesAsync(ct);
        }
    }

    private static async Task<IResult> GetAsync(string consumer, int? wait, HttpContext http, CertificateCaller caller, PortalDbContext db, ConfigPublisher publisher, PortalMetrics metrics, CancellationToken ct)
    {
        if (!BundleConsumers.IsKnown(consumer))
        {
            throw PortalException.NotFound($"Config for '{consumer}'");
        }

        // An edge may follow the DR bundle instead of its own: a customer's DR edge in standby.
        var expected = EnrollmentEndpoints.ConsumerOf(caller.Kind);
        if (consumer != expected && !(expected == BundleConsumers.Edge && consumer == BundleConsumers.Dr))
        {
            throw PortalException.Forbidden($"A {caller.Kind} certificate fetches /config/{expected}, not /config/{consumer}.");
        }

        if (expected == BundleConsumers.Edge)
        {
            await NoteDrFollowingAsync(db, caller, consumer == BundleConsumers.Dr, ct);
        }

        if (consumer == BundleConsumers.Dr)
        {
            await Dr.DrEndpoints.RequireSetUpAsync(db, caller.TenantId, ct);
        }

        var seconds = wait ?? DefaultWaitSeconds;
        if (seconds is < 0 or > MaxWaitSeconds)
        {
            throw PortalException.Invalid("wait", $"wait must be between 0 and {MaxWaitSeconds} seconds.");
        }

        var current = await publisher.CurrentAsync(caller.TenantId, consumer, FirstPublishTimeout, ct)
            ?? throw new PortalException(PortalErrorKind.Unavailable, "The config bundle is not published yet; try again.");
        var ifNoneMatch = http.Request.Headers.IfNoneMatch.ToString().Trim();
        if (ifNoneMatch == current.ETag && seconds > 0)
        {
            using (metrics.LongPoll())
            {
                current = await publisher.WaitForChangeAsync(caller.TenantId, consumer, current, TimeSpan.FromSeconds(seconds), ct);
            }
        }

        http.Response.Headers.ETag = current.ETag;
        http.Response.Headers.CacheControl = "no-cache";
        var unchanged = ifNoneMatch == current.ETag;
        metrics.ConfigResponse(consumer, unchanged ? StatusCodes.Status304NotModified : StatusCodes.Status200OK);
        return unchanged
            ? Results.StatusCode(StatusCodes.Status304NotModified)
            : Results.Bytes(current.Document, "application/json");
    }
}
