using Gatehouse.Policy.Decisions;

namespace Gatehouse.Policy.Explain;

/// <summary>Why the policy decides a flow as it does: the decision and every rule looked at, in order, up to and including the match.</summary>
/// <param name="Decision">The decision (always the same as <see cref="CompiledPolicy.Decide(in FlowContext)"/>).</param>
/// <param name="Summary">One line: <c>rule 3 'block-gambling' matched: block</c>, or why none did.</param>
/// <param name="Rules">The rules looked at, in order; the last one matched unless no rule did.</param>
/// <param name="Facts">What the policy learned about the flow (host, categories, app segments, user, groups).</param>
public sealed record Explanation(Decision Decision, string Summary, IReadOnlyList<RuleTrace> Rules, FlowFacts Facts);

/// <summary>One rule looked at.</summary>
/// <param name="Index">Its index in the policy.</param>
/// <param name="Name">Its name.</param>
/// <param name="Matched">True for the rule that decided the flow.</param>
/// <param name="FailedCriterion">The first criterion (in <see cref="PolicyCriterion"/> order) that did not match; null when it matched or is disabled.</param>
/// <param name="Reason">Why it did not match, in plain words (<c>domain www.example.org is not in [*.example.com]</c>); null when it matched.</param>
public sealed record RuleTrace(int Index, string Name, bool Matched, PolicyCriterion? FailedCriterion, string? Reason);

/// <summary>What the policy resolved about a flow before looking at rules.</summary>
/// <param name="Host">The destination host, lower case, or null.</param>
/// <param name="Ip">The destination address, or null.</param>
/// <param name="User">The user's email, or null.</param>
/// <param name="Groups">The user's groups (from the flow, or from the policy's users).</param>
/// <param name="Categories">The destination's URL categories, most specific first.</param>
/// <param name="AppSegments">The app segments the destination and port fall in.</param>
public sealed record FlowFacts(string? Host, string? Ip, string? User, IReadOnlyList<string> Groups, IReadOnlyList<string> Categories, IReadOnlyList<string> AppSegments);
