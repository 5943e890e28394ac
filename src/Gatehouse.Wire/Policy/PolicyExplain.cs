namespace Gatehouse.Wire.Policy;

/// <summary>
/// A flow to explain against the tenant's policy, as the edge would see it. Every field is optional;
/// a missing field matches only rules that do not use the criterion.
/// </summary>
/// <param name="User">The user's email; must be one of the tenant's users.</param>
/// <param name="Groups">Group names; when empty, the user's groups are used.</param>
/// <param name="Posture">Device posture checks that hold (for example <c>disk-encrypted</c>).</param>
/// <param name="Network">The network kind (<see cref="NetworkKinds"/>).</param>
/// <param name="Time">When the flow starts; now when null.</param>
/// <param name="Host">The destination host name.</param>
/// <param name="Ip">The destination address (IPv4 or IPv6).</param>
/// <param name="Port">The destination port (1–65535).</param>
/// <param name="Protocol">The protocol (<see cref="PolicyProtocols"/>).</param>
/// <param name="Url">For HTTP requests, the absolute URL; its host is used when <paramref name="Host"/> is null.</param>
public sealed record PolicyExplainRequest(
    string? User = null,
    IReadOnlyList<string>? Groups = null,
    IReadOnlyList<string>? Posture = null,
    string? Network = null,
    DateTimeOffset? Time = null,
    string? Host = null,
    string? Ip = null,
    int? Port = null,
    string? Protocol = null,
    string? Url = null);

/// <summary>How the edge's policy decides a flow, and why.</summary>
/// <param name="Action">The decision (<see cref="PolicyActions"/>).</param>
/// <param name="RuleIndex">The index of the deciding rule among the rules the edge enforces (enabled rules, in order); -1 when no rule matched (allowed by default), -2 when the user is disabled (blocked).</param>
/// <param name="RuleName">The deciding rule's name, or null.</param>
/// <param name="Inspect">The deciding rule's inspection flags (<see cref="InspectionFlags"/>).</param>
/// <param name="Category">The destination's URL category as the decision reports it, or null.</param>
/// <param name="Summary">One line: <c>rule 3 'block-gambling' matched: block</c>, or why no rule did.</param>
/// <param name="Rules">The rules looked at, in order, up to and including the match.</param>
/// <param name="Categories">The destination's URL categories, most specific first.</param>
/// <param name="AppSegments">The app segments the destination and port fall in.</param>
public sealed record PolicyExplainResponse(
    string Action,
    int RuleIndex,
    string? RuleName,
    IReadOnlyList<string> Inspect,
    string? Category,
    string Summary,
    IReadOnlyList<PolicyRuleTraceDto> Rules,
    IReadOnlyList<string> Categories,
    IReadOnlyList<string> AppSegments);

/// <summary>One rule looked at while explaining a flow.</summary>
/// <param name="Index">Its index among the rules the edge enforces.</param>
/// <param name="Name">Its name.</param>
/// <param name="Matched">True for the rule that decided the flow.</param>
/// <param name="FailedCriterion">The first criterion that did not match, as named in <see cref="PolicyCriteria"/> (<c>domains</c>, <c>groups</c>…); null when it matched.</param>
/// <param name="Reason">Why it did not match, in plain words; null when it matched.</param>
public sealed record PolicyRuleTraceDto(int Index, string Name, bool Matched, string? FailedCriterion, string? Reason);
