namespace Gatehouse.Policy.Decisions;

/// <summary>What the policy says about one flow. Holds references to the compiled policy's strings; nothing is allocated.</summary>
public readonly record struct Decision
{
    /// <summary>The rule index of the default decision: no rule matched, so the flow is allowed.</summary>
    public const int NoRuleIndex = -1;

    /// <summary>The rule index when the flow's user is disabled: blocked before any rule is looked at.</summary>
    public const int UserDisabledIndex = -2;

    /// <summary>Creates a decision.</summary>
    public Decision(PolicyAction action, int ruleIndex, string? ruleName, InspectFlags inspect, string? category)
    {
        Action = action;
        RuleIndex = ruleIndex;
        RuleName = ruleName;
        Inspect = inspect;
        Category = category;
    }

    /// <summary>What to do with the flow.</summary>
    public PolicyAction Action { get; }

    /// <summary>The index of the matching rule in the source, <see cref="NoRuleIndex"/> or <see cref="UserDisabledIndex"/>.</summary>
    public int RuleIndex { get; }

    /// <summary>The matching rule's name; null when no rule matched.</summary>
    public string? RuleName { get; }

    /// <summary>The matching rule's inspection flags.</summary>
    public InspectFlags Inspect { get; }

    /// <summary>
    /// The destination's URL category, if any: when the rule matched on categories, the most specific of
    /// the rule's categories the destination is in; otherwise the destination's most specific category.
    /// </summary>
    public string? Category { get; }

    /// <summary>True when a rule decided the flow (not the default, not a disabled user).</summary>
    public bool MatchedRule => RuleIndex >= 0;
}
