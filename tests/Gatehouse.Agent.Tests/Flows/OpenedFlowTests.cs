using Gatehouse.Agent.Flows;

namespace Gatehouse.Agent.Tests.Flows;

/// <summary>What a flow that was not opened tells the application.</summary>
public sealed class OpenedFlowTests
{
    [Fact]
    public void A_refusal_with_a_rule_and_a_reference_names_both()
    {
        var refused = new OpenedFlow(null, 403, "block-casino", "blocked", "r-1", Direct: false);

        Assert.Equal([("Gatehouse-Rule", "block-casino"), ("Gatehouse-Reason", "blocked"), ("Gatehouse-Reference", "r-1")], refused.RefusalHeaders);
    }

    [Fact]
    public void A_refusal_no_rule_decided_has_no_rule_header_and_one_with_no_reference_no_reference_header()
    {
        // They came empty, and a client that took an empty value for a name showed a rule called "".
        var egress = new OpenedFlow(null, 403, null, "egress refused", "r-2", Direct: false);
        var noEdge = new OpenedFlow(null, 503, null, null, null, Direct: false);

        Assert.Equal([("Gatehouse-Reason", "egress refused"), ("Gatehouse-Reference", "r-2")], egress.RefusalHeaders);
        Assert.Equal([("Gatehouse-Reason", "the edge gave no reason")], noEdge.RefusalHeaders);
    }
}
