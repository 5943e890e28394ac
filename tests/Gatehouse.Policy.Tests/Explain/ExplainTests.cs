using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Explain;
using Gatehouse.Wire.Policy;
using static Gatehouse.Policy.Tests.Policies;

namespace Gatehouse.Policy.Tests.Explain;

public sealed class ExplainTests
{
    [Fact]
    public void Explains_every_rule_up_to_the_match_with_the_failing_criterion_in_plain_words()
    {
        var policy = Compile(
            Rule("example-only", PolicyActions.Allow, new() { Domains = ["*.example.com"] }),
            Rule("finance-only", PolicyActions.Allow, new() { Groups = ["finance"] }),
            Rule("office-hours", PolicyActions.Allow, new() { Schedule = new(["mon", "tue", "wed", "thu", "fri"], "08:00", "18:00", "Europe/Paris") }),
            Rule("off", PolicyActions.Allow, enabled: false),
            Rule("gambling", PolicyActions.Block, new() { Categories = ["gambling"] }),
            Rule("never-reached", PolicyActions.Allow));
        var flow = Flow("www.casino.example") with { UserId = "u-bob", Time = new DateTimeOffset(2026, 3, 7, 9, 30, 0, TimeSpan.Zero) };

        var explanation = policy.Explain(flow);

        Assert.Equal(new Decision(PolicyAction.Block, 4, "gambling", InspectFlags.None, "gambling"), explanation.Decision);
        Assert.Equal("rule 4 'gambling' matched: block", explanation.Summary);
        Assert.Equal(5, explanation.Rules.Count);
        Assert.Equal(new RuleTrace(0, "example-only", false, PolicyCriterion.Domains, "domain www.casino.example is not in [*.example.com]"), explanation.Rules[0]);
        Assert.Equal(PolicyCriterion.Groups, explanation.Rules[1].FailedCriterion);
        Assert.StartsWith("user is not in groups [finance]", explanation.Rules[1].Reason, StringComparison.Ordinal);
        Assert.Equal("outside schedule mon-fri 08:00-18:00 Europe/Paris (local time sat 10:30)", explanation.Rules[2].Reason);
        Assert.Equal("the rule is disabled", explanation.Rules[3].Reason);
        Assert.True(explanation.Rules[4].Matched);
        Assert.Equal(["gambling"], explanation.Facts.Categories);
        Assert.Equal("bob@corp.example", explanation.Facts.User);
    }

    [Theory]
    [InlineData("cidrs", "ip 10.9.9.9 is not in [10.1.0.0/16]")]
    [InlineData("ports", "port 443 is not in [22, 8000-8080]")]
    [InlineData("protocols", "protocol https is not in [udp]")]
    [InlineData("networks", "network trusted is not in [untrusted]")]
    [InlineData("users", "user alice@corp.example is not in [bob@corp.example]")]
    public void Reason_names_the_flow_value_and_the_rule_values(string criterion, string reason)
    {
        var criteria = criterion switch
        {
            "cidrs" => new PolicyCriteria { Cidrs = ["10.1.0.0/16"] },
            "ports" => new PolicyCriteria { Ports = ["22", "8000-8080"] },
            "protocols" => new PolicyCriteria { Protocols = ["udp"] },
            "networks" => new PolicyCriteria { Networks = ["untrusted"] },
            _ => new PolicyCriteria { Users = ["bob@corp.example"] },
        };
        var policy = Compile(Rule("r", PolicyActions.Block, criteria));

        var explanation = policy.Explain(Flow("www.example.com", "10.9.9.9"));

        Assert.Equal(reason, Assert.Single(explanation.Rules).Reason);
        Assert.Equal("no rule matched (1 looked at): allowed by default", explanation.Summary);
    }

    [Fact]
    public void Explains_a_disabled_user()
    {
        var policy = Compile(Rule("allow-all", PolicyActions.Allow));

        var explanation = policy.Explain(Flow() with { UserId = "u-eve" });

        Assert.Equal(Decision.UserDisabledIndex, explanation.Decision.RuleIndex);
        Assert.Empty(explanation.Rules);
        Assert.Contains("disabled", explanation.Summary, StringComparison.Ordinal);
    }
}
