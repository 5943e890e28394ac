using System.Text.Json.Nodes;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Edge.Private;

/// <summary>A connector the bundle knows: its name and the connector group it serves.</summary>
/// <param name="Id">Its id (the subject of its certificate).</param>
/// <param name="Name">Its name.</param>
/// <param name="GroupId">Its connector group.</param>
public sealed record KnownConnector(string Id, string Name, string GroupId);

/// <summary>
/// The private apps of the tenant as one bundle gives them: the compiled access policy (which also knows the
/// app segments), the connector groups that serve each segment, and the enrolled connectors.
/// </summary>
public sealed class PrivateAccess
{
    private PrivateAccess(CompiledPolicy access, Dictionary<string, IReadOnlyList<string>> segmentGroups, Dictionary<string, KnownConnector> connectors)
    {
        Access = access;
        SegmentConnectorGroups = segmentGroups;
        Connectors = connectors;
    }

    /// <summary>No private apps.</summary>
    public static PrivateAccess None { get; } = new(PolicyCompiler.Compile(PolicySource.Empty).Policy!, [], []);

    /// <summary>The access policy: a flow to a segment is allowed only by a rule that allows it.</summary>
    public CompiledPolicy Access { get; }

    /// <summary>Segment name → the connector groups that serve it.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> SegmentConnectorGroups { get; }

    /// <summary>Connector id → what the bundle says of it.</summary>
    public IReadOnlyDictionary<string, KnownConnector> Connectors { get; }

    /// <summary>
    /// The networks of the app segments: the PAC file sends addresses in them to the proxy, which hands them
    /// to a connector, where other private addresses go direct.
    /// </summary>
    public IReadOnlyList<NetworkPorts> SegmentNetworks => Access.SegmentNetworks;

    /// <summary>Reads and compiles the private part of a bundle body; the error says why it cannot be used.</summary>
    /// <exception cref="PolicyFormatException">A part of the body has the wrong shape.</exception>
    public static (PrivateAccess? Access, string? Error) FromBundleBody(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var compiled = PolicyCompiler.Compile(PolicySource.AccessFromBundleBody(body));
        if (compiled.Policy is not { } access)
        {
            return (null, $"access policy: {compiled.Error}");
        }

        var groups = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (item, path) in BundleJson.Items(body["appSegments"], "appSegments"))
        {
            groups[BundleJson.Required(item["name"], path + ".name")] = BundleJson.Strings(item["connectorGroupIds"], path + ".connectorGroupIds");
        }

        var connectors = new Dictionary<string, KnownConnector>(StringComparer.Ordinal);
        foreach (var (item, path) in BundleJson.Items(body["connectors"], "connectors"))
        {
            var connector = new KnownConnector(
                BundleJson.Required(item["id"], path + ".id"),
                BundleJson.Text(item["name"], path + ".name") ?? string.Empty,
                BundleJson.Required(item["connectorGroupId"], path + ".connectorGroupId"));
            connectors[connector.Id] = connector;
        }

        return (new PrivateAccess(access, groups, connectors), null);
    }

    /// <summary>
    /// Decides a flow to <paramref name="segment"/> under the access policy: only a rule that allows it lets it
    /// through (no rule, no access), whichever listener it came in on.
    /// </summary>
    /// <param name="flow">The flow.</param>
    /// <param name="segment">Its app segment (<see cref="CompiledPolicy.AppSegmentOf"/>).</param>
    /// <param name="who">Who asks, for the refusal: the user's email, else the device.</param>
    /// <param name="refusal">Why it is refused; null when it is allowed.</param>
    /// <returns>The decision (its rule goes in the record either way).</returns>
    public Decision Decide(in FlowContext flow, string segment, string who, out string? refusal)
    {
        var decision = Access.Decide(flow);
        refusal = decision.Action == PolicyAction.Allow && decision.MatchedRule ? null
            : decision.RuleIndex == Decision.UserDisabledIndex ? "the user is disabled"
            : decision.MatchedRule ? $"access to app segment {segment} is blocked by access rule {decision.RuleName}"
            : $"no access rule allows {who} to reach app segment {segment}";
        return decision;
    }

    /// <summary>Whether <paramref name="connectorId"/> serves <paramref name="segment"/> (through its group).</summary>
    public bool Serves(string connectorId, string segment) =>
        Connectors.TryGetValue(connectorId, out var connector)
        && SegmentConnectorGroups.TryGetValue(segment, out var groups)
        && groups.Contains(connector.GroupId, StringComparer.Ordinal);
}
