using System.Text.Json.Nodes;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Api;

namespace Gatehouse.Connector.Config;

/// <summary>An edge to link to.</summary>
/// <param name="Name">Its name (or its address when given on the command line).</param>
/// <param name="Address">HOST:PORT of its tunnel listener.</param>
public sealed record EdgeTarget(string Name, string Address);

/// <summary>A server to check for a segment, and how.</summary>
/// <param name="Segment">The app segment.</param>
/// <param name="Host">A name or address.</param>
/// <param name="Port">The port.</param>
/// <param name="Check"><see cref="HealthCheckKinds"/>.</param>
/// <param name="Path">The path of an <c>http</c> check.</param>
public sealed record HealthTarget(string Segment, string Host, int Port, string Check, string Path);

/// <summary>
/// What a connector takes from its bundle: the edges to link to, its own connector group, and the app segments
/// that group serves, as a matcher (a flow outside them is refused whatever an edge asks) and as the servers to
/// health-check.
/// </summary>
public sealed class ConnectorConfig
{
    private ConnectorConfig(IReadOnlyList<EdgeTarget> edges, string? groupId, CompiledPolicy segments, IReadOnlyList<string> segmentNames, IReadOnlyList<HealthTarget> health)
    {
        Edges = edges;
        GroupId = groupId;
        Segments = segments;
        SegmentNames = segmentNames;
        HealthTargets = health;
    }

    /// <summary>Before the first bundle: no edges, no segments.</summary>
    public static ConnectorConfig Empty { get; } = new([], null, PolicyCompiler.Compile(PolicySource.Empty).Policy!, [], []);

    /// <summary>The active edges of the tenant.</summary>
    public IReadOnlyList<EdgeTarget> Edges { get; }

    /// <summary>This connector's group; null when the bundle does not list it (revoked or not yet published).</summary>
    public string? GroupId { get; }

    /// <summary>The served segments, to match a flow's destination against.</summary>
    public CompiledPolicy Segments { get; }

    /// <summary>The names of the served segments.</summary>
    public IReadOnlyList<string> SegmentNames { get; }

    /// <summary>The servers to check.</summary>
    public IReadOnlyList<HealthTarget> HealthTargets { get; }

    /// <summary>Reads a bundle body for the connector <paramref name="connectorId"/>.</summary>
    /// <exception cref="PolicyFormatException">A part has the wrong shape, or the segments do not compile.</exception>
    public static ConnectorConfig FromBundleBody(JsonObject body, string connectorId)
    {
        ArgumentNullException.ThrowIfNull(body);
        var edges = new List<EdgeTarget>();
        foreach (var (item, path) in BundleJson.Items(body["edges"], "edges"))
        {
            edges.Add(new EdgeTarget(BundleJson.Text(item["name"], path + ".name") ?? "edge", BundleJson.Text(item["address"], path + ".address") ?? throw new PolicyFormatException(path + ".address", "is missing.")));
        }

        string? groupId = null;
        foreach (var (item, path) in BundleJson.Items(body["connectors"], "connectors"))
        {
            if (BundleJson.Text(item["id"], path + ".id") == connectorId)
            {
                groupId = BundleJson.Text(item["connectorGroupId"], path + ".connectorGroupId");
            }
        }

        var served = new List<AppSegmentSource>();
        var health = new List<HealthTarget>();
        foreach (var (item, path) in BundleJson.Items(body["appSegments"], "appSegments"))
        {
            if (groupId is null || !BundleJson.Strings(item["connectorGroupIds"], path + ".connectorGroupIds").Contains(groupId, StringComparer.Ordinal))
            {
                continue;
            }

            var segment = new AppSegmentSource(
                BundleJson.Text(item["name"], path + ".name") ?? throw new PolicyFormatException(path + ".name", "is missing."),
                BundleJson.Strings(item["domains"], path + ".domains"),
                BundleJson.Strings(item["cidrs"], path + ".cidrs"),
                BundleJson.Strings(item["ports"], path + ".ports"));
            served.Add(segment);
            health.AddRange(HealthTargetsOf(segment, item["serverGroups"], path + ".serverGroups"));
        }

        var compiled = PolicyCompiler.Compile(new PolicySource([], new Dictionary<string, IReadOnlyList<string>>(), served, []));
        var segments = compiled.Policy ?? throw new PolicyFormatException("appSegments", compiled.Error!.ToString());
        return new ConnectorConfig(edges, groupId, segments, [.. served.Select(s => s.Name)], health);
    }

    /// <summary>
    /// The servers of the segment's server groups on each of its single ports, by the group's check; without
    /// server groups, its exact domains by TCP. Port ranges are not probed.
    /// </summary>
    private static IEnumerable<HealthTarget> HealthTargetsOf(AppSegmentSource segment, JsonNode? serverGroups, string path)
    {
        var ports = segment.Ports.Select(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) ? port : 0).Where(p => p > 0).ToList();
        var groups = BundleJson.Items(serverGroups, path).ToList();
        if (groups.Count == 0)
        {
            foreach (var domain in segment.Domains.Where(d => !d.StartsWith("*.", StringComparison.Ordinal)))
            {
                foreach (var port in ports)
                {
                    yield return new HealthTarget(segment.Name, domain, port, HealthCheckKinds.Tcp, "/");
                }
            }

            yield break;
        }

        foreach (var (group, groupPath) in groups)
        {
            var check = BundleJson.Text(group["healthCheck"], groupPath + ".healthCheck") ?? HealthCheckKinds.Tcp;
            var checkPath = BundleJson.Text(group["healthPath"], groupPath + ".healthPath") ?? "/";
            foreach (var server in BundleJson.Strings(group["servers"], groupPath + ".servers"))
            {
                foreach (var port in ports)
                {
                    yield return new HealthTarget(segment.Name, server, port, check, checkPath);
                }
            }
        }
    }
}
