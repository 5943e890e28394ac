using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Enrollment;
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
        return api;
    }

    private static async Task<IResult> GetAsync(string consumer, int? wait, HttpContext http, CertificateCaller caller, ConfigPublisher publisher, PortalMetrics metrics, CancellationToken ct)
    {
        if (!BundleConsumers.IsKnown(consumer))
        {
            throw PortalException.NotFound($"Config for '{consumer}'");
        }

        var expected = EnrollmentEndpoints.ConsumerOf(caller.Kind);
        if (consumer != expected)
        {
            throw PortalException.Forbidden($"A {caller.Kind} certificate fetches /config/{expected}, not /config/{consumer}.");
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
