using Gatehouse.Edge.Hosting;
using Gatehouse.Node.Config;
using Gatehouse.Observability;

namespace Gatehouse.Edge.Operations;

/// <summary>The operations endpoints: <c>GET /healthz</c> and <c>GET /metrics</c>.</summary>
internal static class OpsEndpoints
{
    public static void Map(WebApplication app, RunningEdge edge)
    {
        app.MapGet("/healthz", () => Health(edge));
        app.MapGet("/metrics", () => Results.Text(edge.Metrics.Exporter.Render(), PrometheusExporter.ContentType));
    }

    /// <summary>The portal state as <c>/healthz</c> and the logs show it.</summary>
    public static string PortalState(PortalConnection connection) => connection switch
    {
        PortalConnection.Connected => "connected",
        PortalConnection.Unreachable => "unreachable",
        PortalConnection.Refused => "refused",
        _ => "connecting",
    };

    private static IResult Health(RunningEdge edge)
    {
        var portal = edge.Portal;
        var state = edge.Policy.State;
        var (lastError, lastErrorAt) = edge.Policy.LastRefusal is { } refusal ? (refusal.Error, refusal.At) : (portal.LastError, portal.LastErrorAt);
        if (state is null)
        {
            return Results.Json(
                new Dictionary<string, object?> { ["status"] = "starting", ["portal"] = PortalState(portal.Connection), ["lastError"] = lastError, ["lastErrorAt"] = lastErrorAt },
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return Results.Json(new Dictionary<string, object?>
        {
            ["status"] = "ok",
            ["policyVersion"] = state.Version,
            ["policyRules"] = state.RuleCount,
            ["policySince"] = state.Since,
            ["portal"] = PortalState(portal.Connection),
            ["since"] = portal.Since,
            ["lastError"] = lastError,
            ["lastErrorAt"] = lastErrorAt,
        });
    }
}
