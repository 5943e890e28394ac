using Gatehouse.Policy.Decisions;
using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Flows;

/// <summary>Why a flow may not go on, as the policy decided it: the action to record and the reason in words.</summary>
/// <param name="Action">A <see cref="TransactionActions"/> value.</param>
/// <param name="Reason">Why, in plain words.</param>
internal readonly record struct RefusalReason(string Action, string Reason)
{
    /// <summary>A block decision, in the words both listeners give: the disabled user, or the rule and its category.</summary>
    public static RefusalReason Blocked(in Decision decision) => new(TransactionActions.Block, decision.RuleIndex == Decision.UserDisabledIndex
        ? "the user is disabled"
        : $"blocked by rule {decision.RuleName}" + (decision.Category is null ? string.Empty : $" (category {decision.Category})"));
}
