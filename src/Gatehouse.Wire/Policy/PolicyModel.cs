using System.Text.Json.Serialization;

namespace Gatehouse.Wire.Policy;

/// <summary>What a rule does to a flow it matches.</summary>
public static class PolicyActions
{
    /// <summary>Let it through.</summary>
    public const string Allow = "allow";
    /// <summary>Refuse it: block page for HTTP, reset for TCP.</summary>
    public const string Block = "block";
    /// <summary>Warn first; the user may continue, and that is recorded.</summary>
    public const string Caution = "caution";

    /// <summary>All actions.</summary>
    public static readonly IReadOnlyList<string> All = [Allow, Block, Caution];
}

/// <summary>Network kinds a rule can require.</summary>
public static class NetworkKinds
{
    /// <summary>A network the app profile's criteria call trusted.</summary>
    public const string Trusted = "trusted";
    /// <summary>Any other network.</summary>
    public const string Untrusted = "untrusted";
    /// <summary>A VPN is up.</summary>
    public const string Vpn = "vpn";

    /// <summary>All kinds.</summary>
    public static readonly IReadOnlyList<string> All = [Trusted, Untrusted, Vpn];
}

/// <summary>Protocols a rule can require.</summary>
public static class PolicyProtocols
{
    /// <summary>All protocols a rule can name.</summary>
    public static readonly IReadOnlyList<string> All = ["tcp", "udp", "http", "https", "dns"];
}

/// <summary>Inspection flags a rule can set on the flows it allows.</summary>
public static class InspectionFlags
{
    /// <summary>All flags a rule can name.</summary>
    public static readonly IReadOnlyList<string> All = ["log-full-url", "tls-inspect", "dlp", "sandbox"];
}

/// <summary>
/// When a rule applies. All present criteria must match (AND); within one criterion any value
/// matches (OR); an absent or empty criterion matches everything. Objects are named, not
/// numbered, so that an exported policy imports into another tenant or portal.
/// </summary>
/// <remarks>
/// A criterion only ever narrows a rule, so one that a reader drops makes the rule match more than its author
/// wrote: a misspelt <c>domain</c>, or a criterion added by a newer portal and read by an older edge, would
/// turn an allow rule for one site into one for every site. Unknown fields are therefore refused wherever
/// criteria are read (the portal, the edge's bundle, the command line's files), whatever the serializer's
/// options say elsewhere.
/// </remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PolicyCriteria
{
    /// <summary>User emails.</summary>
    public IReadOnlyList<string>? Users { get; init; }
    /// <summary>Group names.</summary>
    public IReadOnlyList<string>? Groups { get; init; }
    /// <summary>Device posture checks that must hold (for example <c>disk-encrypted</c>, <c>os:linux</c>).</summary>
    public IReadOnlyList<string>? Posture { get; init; }
    /// <summary>Network kinds (<see cref="NetworkKinds"/>).</summary>
    public IReadOnlyList<string>? Networks { get; init; }
    /// <summary>When in the week the rule applies.</summary>
    public PolicySchedule? Schedule { get; init; }
    /// <summary>Destination domains, exact (<c>example.com</c>) or wildcard (<c>*.example.com</c>).</summary>
    public IReadOnlyList<string>? Domains { get; init; }
    /// <summary>URL category names.</summary>
    public IReadOnlyList<string>? Categories { get; init; }
    /// <summary>Destination networks in CIDR notation.</summary>
    public IReadOnlyList<string>? Cidrs { get; init; }
    /// <summary>Destination ports or ranges (<c>443</c>, <c>8000-8080</c>).</summary>
    public IReadOnlyList<string>? Ports { get; init; }
    /// <summary>Protocols (<see cref="PolicyProtocols"/>).</summary>
    public IReadOnlyList<string>? Protocols { get; init; }
    /// <summary>App segment names.</summary>
    public IReadOnlyList<string>? AppSegments { get; init; }

    /// <summary>
    /// Segment group names: admins write them, the portal publishes them as the <see cref="AppSegments"/>
    /// of each group, so a policy in a bundle never holds one.
    /// </summary>
    public IReadOnlyList<string>? SegmentGroups { get; init; }
}

/// <summary>Days of the week and a daily window, in one time zone (IANA id, default UTC); unknown fields are refused, as in <see cref="PolicyCriteria"/>.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PolicySchedule(IReadOnlyList<string> Days, string From, string To, string? TimeZone = null);

/// <summary>
/// One rule as written by an admin (import, create); its place in the list is its order. Unknown fields are
/// refused, as in <see cref="PolicyCriteria"/>: a misspelt <c>enabled</c> or <c>inspect</c> would otherwise be dropped unseen.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PolicyRuleSpec
{
    /// <summary>Unique name within the policy.</summary>
    public required string Name { get; init; }
    /// <summary><see cref="PolicyActions"/>.</summary>
    public required string Action { get; init; }
    /// <summary>Disabled rules are kept but never match.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Free text.</summary>
    public string? Description { get; init; }
    /// <summary>When the rule applies.</summary>
    public PolicyCriteria Criteria { get; init; } = new();
    /// <summary><see cref="InspectionFlags"/>.</summary>
    public IReadOnlyList<string>? Inspect { get; init; }
}

/// <summary>A stored rule: the spec plus its id and position.</summary>
public sealed record PolicyRuleDto(Guid Id, int Order, PolicyRuleSpec Rule);

/// <summary>A tenant's whole policy, as exported and imported (YAML or JSON). First match wins. Unknown fields are refused.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PolicyDocument(IReadOnlyList<PolicyRuleSpec> Rules);

/// <summary>
/// The access policy of private apps: ordered rules, first match wins, and no match is a refusal. A rule
/// grants or refuses users, groups, device posture, networks and times access to app segments (or segment
/// groups); it has no destination criteria of its own, and no caution or inspection.
/// </summary>
public static class AccessPolicy
{
    /// <summary>The actions an access rule may take.</summary>
    public static readonly IReadOnlyList<string> Actions = [PolicyActions.Allow, PolicyActions.Block];

    /// <summary>The criteria an access rule may use, by their JSON names.</summary>
    public static readonly IReadOnlyList<string> Criteria = ["users", "groups", "posture", "networks", "schedule", "appSegments", "segmentGroups"];
}
