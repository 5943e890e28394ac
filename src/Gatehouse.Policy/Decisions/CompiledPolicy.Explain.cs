using System.Globalization;
using Gatehouse.Policy.Explain;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Policy.Decisions;

public sealed partial class CompiledPolicy
{
    private const int ListedValues = 10;

    /// <summary>
    /// Explains the decision for one flow: every rule in order up to and including the one that
    /// matched (all rules when none did), and for each rule that did not match the first criterion
    /// that failed and why. Rules are checked one by one here, not through the indexes, so the
    /// decision it carries is an independent check of <see cref="Decide(in FlowContext)"/>.
    /// </summary>
    public Explanation Explain(in FlowContext flow)
    {
        Span<char> hostBuffer = stackalloc char[MaxHost];
        var hostSpan = NormaliseHost(flow, hostBuffer);
        Span<byte> ipBuffer = stackalloc byte[16];
        var ipSpan = IpBytes(flow, ipBuffer);
        var host = hostSpan.IsEmpty ? null : hostSpan.ToString();
        var ip = ipSpan.IsEmpty ? null : new System.Net.IPAddress(ipSpan).ToString();
        var user = FindUser(flow);
        var email = flow.UserEmail ?? user?.Email;
        var groups = flow.Groups.Length > 0 ? flow.Groups.ToArray() : (IReadOnlyList<string>?)user?.Groups ?? [];

        var values = new int[Bound(flow)];
        var start = new int[CriterionCount + 1];
        Collect(flow, hostSpan, ipSpan, user, values, start);
        var matched = new HashSet<int>[CriterionCount];
        for (var c = 0; c < CriterionCount; c++)
        {
            matched[c] = [.. values.AsSpan(start[c], start[c + 1] - start[c])];
        }

        var categorySpan = values.AsSpan(start[(int)PolicyCriterion.Categories], start[(int)PolicyCriterion.Categories + 1] - start[(int)PolicyCriterion.Categories]);
        var facts = new FlowFacts(
            host,
            ip,
            email,
            groups,
            Distinct(categorySpan, CategoryNames, mostSpecificFirst: true),
            Distinct(values.AsSpan(start[(int)PolicyCriterion.AppSegments], start[CriterionCount] - start[(int)PolicyCriterion.AppSegments]), SegmentNames, mostSpecificFirst: false));

        if (user is { Disabled: true })
        {
            var blocked = new Decision(PolicyAction.Block, Decision.UserDisabledIndex, null, InspectFlags.None, null);
            return new Explanation(blocked, $"user {user.Email} is disabled: blocked before any rule", [], facts);
        }

        var traces = new List<RuleTrace>();
        var rule = -1;
        for (var r = 0; r < RuleCount; r++)
        {
            if (!Enabled[r])
            {
                traces.Add(new RuleTrace(r, RuleNames[r], false, null, "the rule is disabled"));
                continue;
            }

            var failure = FirstFailure(r, matched, flow, facts);
            if (failure is null)
            {
                traces.Add(new RuleTrace(r, RuleNames[r], true, null, null));
                rule = r;
                break;
            }

            traces.Add(new RuleTrace(r, RuleNames[r], false, failure.Value.Criterion, failure.Value.Reason));
        }

        var decision = DecisionFor(rule, categorySpan);
        var summary = rule >= 0
            ? $"rule {rule} '{RuleNames[rule]}' matched: {Name(decision.Action)}"
            : $"no rule matched ({RuleCount} looked at): allowed by default";
        return new Explanation(decision, summary, traces, facts);
    }

    private (PolicyCriterion Criterion, string Reason)? FirstFailure(int rule, HashSet<int>[] matched, in FlowContext flow, FlowFacts facts)
    {
        for (var c = 0; c < CriterionCount; c++)
        {
            var criterion = (PolicyCriterion)c;
            if (criterion == PolicyCriterion.Schedule)
            {
                var index = RuleSchedule[rule];
                if (index >= 0 && !Schedules[index].Contains(flow.Time))
                {
                    return (criterion, $"outside schedule {Schedules[index].Text} (local time {Schedules[index].Local(flow.Time)})");
                }

                continue;
            }

            var named = Criteria[c]!.ValuesOf(rule);
            if (named.IsEmpty)
            {
                continue;
            }

            var hit = false;
            foreach (var value in named)
            {
                hit |= matched[c].Contains(value);
            }

            if (!hit)
            {
                return (criterion, Reason(criterion, named, flow, facts));
            }
        }

        return null;
    }

    private string Reason(PolicyCriterion criterion, ReadOnlySpan<int> named, in FlowContext flow, FlowFacts facts)
    {
        switch (criterion)
        {
            case PolicyCriterion.Users:
                var users = List(named, UserTexts);
                return facts.User is null ? $"the flow has no user; the rule needs one of {users}" : $"user {facts.User} is not in {users}";
            case PolicyCriterion.Groups:
                return $"user is not in groups {List(named, GroupTexts)} (user's groups: {List(facts.Groups)})";
            case PolicyCriterion.Posture:
                return $"device posture {List(flow.Posture.ToArray())} has none of {List(named, PostureTexts)}";
            case PolicyCriterion.Networks:
                return $"network {Name(flow.Network)} is not in {List(named, NetworkKinds.All)}";
            case PolicyCriterion.Domains:
                return facts.Host is null
                    ? $"the flow has no destination domain; the rule needs {List(named, DomainTexts)}"
                    : $"domain {facts.Host} is not in {List(named, DomainTexts)}";
            case PolicyCriterion.Categories:
                return facts.Host is null
                    ? $"the flow has no destination domain; the rule needs categories {List(named, CategoryNames)}"
                    : $"domain {facts.Host} (categories {List(facts.Categories)}) is not in categories {List(named, CategoryNames)}";
            case PolicyCriterion.Cidrs:
                return facts.Ip is null
                    ? $"the flow has no destination ip; the rule needs {List(named, CidrTexts)}"
                    : $"ip {facts.Ip} is not in {List(named, CidrTexts)}";
            case PolicyCriterion.Ports:
                return $"port {flow.Port.ToString(CultureInfo.InvariantCulture)} is not in {List(named, PortTexts)}";
            case PolicyCriterion.Protocols:
                return $"protocol {Name(flow.Protocol)} is not in {List(named, PolicyProtocols.All)}";
            case PolicyCriterion.AppSegments:
                return $"destination {facts.Host ?? facts.Ip ?? "(none)"} port {flow.Port.ToString(CultureInfo.InvariantCulture)} (app segments {List(facts.AppSegments)}) is in no app segment of {List(named, SegmentNames)}";
            case PolicyCriterion.Schedule:
            default:
                return criterion.ToString();
        }
    }

    private static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static List<string> Distinct(ReadOnlySpan<int> ids, string[] names, bool mostSpecificFirst)
    {
        var result = new List<string>();
        for (var i = 0; i < ids.Length; i++)
        {
            var name = names[ids[mostSpecificFirst ? ids.Length - 1 - i : i]];
            if (!result.Contains(name))
            {
                result.Add(name);
            }
        }

        return result;
    }

    private static string List(ReadOnlySpan<int> ids, IReadOnlyList<string> texts)
    {
        var items = new string[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            items[i] = texts[ids[i]];
        }

        return List(items);
    }

    private static string List(IReadOnlyList<string> items)
    {
        if (items.Count <= ListedValues)
        {
            return $"[{string.Join(", ", items)}]";
        }

        return $"[{string.Join(", ", items.Take(ListedValues))}, … ({items.Count - ListedValues} more)]";
    }
}
