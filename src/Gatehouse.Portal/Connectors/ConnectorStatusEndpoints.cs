using Gatehouse.Portal.Api;
using Gatehouse.Portal.Enrollment;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Certificates;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Tunnel;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Connectors;

/// <summary>
/// <c>POST /connector/status</c>: a connector (its own certificate) reports its load, links and its app
/// servers' health; admins see the last report on the connector (<c>GET /connectors</c>).
/// </summary>
internal static class ConnectorStatusEndpoints
{
    /// <summary>The most servers one report may carry.</summary>
    public const int MaxServers = 10_000;

    public static RouteGroupBuilder MapConnectorStatus(this RouteGroupBuilder api)
    {
        api.MapPost("/connector/status", ReportAsync).RequireAuthorization(CertificateAuthenticationHandler.Policy).WithTags("connectors");
        return api;
    }

    private static async Task<IResult> ReportAsync(ConnectorStatusReport? report, CertificateCaller caller, PortalDbContext db, TimeProvider time, CancellationToken ct)
    {
        if (caller.Kind != IdentityKinds.Connector)
        {
            throw PortalException.Forbidden($"A {caller.Kind} certificate cannot report connector status.");
        }

        if (report?.Servers is null || report.Edges is null)
        {
            throw PortalException.Invalid("$", "The body must be a connector status report with servers and edges lists.");
        }

        if (report.Servers.Count > MaxServers)
        {
            throw PortalException.Invalid("servers", $"A report carries at most {MaxServers} servers; this one has {report.Servers.Count}.");
        }

        var health = new ConnectorHealthDto(time.GetUtcNow(), Math.Max(0, report.ActiveFlows), report.Edges, report.Servers);

        // ExecuteUpdate, not SaveChanges: a health report is not a config change and must not republish bundles.
        var updated = await db.Set<Connector>().IgnoreQueryFilters()
            .Where(c => c.TenantId == caller.TenantId && c.Id == caller.SubjectId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Health, health).SetProperty(c => c.LastSeenAt, health.ReportedAt), ct);
        return updated == 0 ? throw PortalException.NotFound($"Connector {caller.SubjectId}") : Results.NoContent();
    }
}
