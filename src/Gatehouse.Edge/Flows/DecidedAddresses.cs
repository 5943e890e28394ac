using System.Net;
using Gatehouse.Policy.Decisions;

namespace Gatehouse.Edge.Flows;

/// <summary>
/// The addresses of a resolved name that a flow may be dialled at. A flow is decided with the name's first
/// address, and the dialer falls back to the next ones when that one does not answer; without this, a name
/// whose owner lists an unreachable address first and a blocked one second (any DNS owner can) would reach
/// what an IP or CIDR rule blocks.
/// </summary>
internal static class DecidedAddresses
{
    /// <summary>
    /// Keeps the first address (the decided one) and every other one the policy treats the same way (the same
    /// action by the same rule), in their order.
    /// </summary>
    /// <param name="policy">The policy that made <paramref name="decided"/>.</param>
    /// <param name="flow">The flow as decided, with the first address.</param>
    /// <param name="decided">The decision the flow goes on with.</param>
    /// <param name="addresses">The name's addresses that egress safety allows, the decided one first.</param>
    public static IPAddress[] Of(CompiledPolicy policy, in FlowContext flow, in Decision decided, IPAddress[] addresses)
    {
        if (addresses.Length <= 1)
        {
            return addresses;
        }

        var kept = new List<IPAddress>(addresses.Length) { addresses[0] };
        for (var i = 1; i < addresses.Length; i++)
        {
            var decision = policy.Decide(flow with { Ip = addresses[i] });
            if (decision.Action == decided.Action && decision.RuleIndex == decided.RuleIndex)
            {
                kept.Add(addresses[i]);
            }
        }

        return kept.Count == addresses.Length ? addresses : [.. kept];
    }
}
