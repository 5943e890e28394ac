using Gatehouse.Policy.Decisions;
using Gatehouse.Wire.Policy;
using static Gatehouse.Policy.Tests.Policies;

namespace Gatehouse.Policy.Tests.Decisions;

public sealed class OrderAndActionsTests
{
    [Theory]
    [InlineData(PolicyActions.Allow, PolicyAction.Allow)]
    [InlineData(PolicyActions.Block, PolicyAction.Block)]
    [InlineData(PolicyActions.Caution, PolicyAction.Caution)]
    [InlineData("BLOCK", PolicyAction.Block)]
    public void Action_of_the_matching_rule_is_the_decision(string action, PolicyAction expected)
    {
        var policy = Compile(Rule("r", action, new() { Domains = ["www.example.com"] }));

        Assert.Equal(expected, policy.Decide(Flow()).Action);
    }

    [Theory]
    [InlineData(new string[0], InspectFlags.None)]
    [InlineData(new[] { "log-full-url" }, InspectFlags.LogFullUrl)]
    [InlineData(new[] { "tls-inspect", "dlp" }, InspectFlags.TlsInspect | InspectFlags.Dlp)]
    [InlineData(new[] { "sandbox", "log-full-url", "tls-inspect", "dlp" }, InspectFlags.LogFullUrl | InspectFlags.TlsInspect | InspectFlags.Dlp | InspectFlags.Sandbox)]
    public void Inspection_flags_of_the_matching_rule_come_with_the_decision(string[] flags, InspectFlags expected)
    {
        var policy = Compile(Rule("r", PolicyActions.Allow, inspect: flags));

        Assert.Equal(expected, policy.Decide(Flow()).Inspect);
    }

    [Fact]
    public void First_matching_rule_wins()
    {
        var policy = Compile(
            Rule("other-domain", PolicyActions.Block, new() { Domains = ["example.org"] }),
            Rule("allow-example", PolicyActions.Allow, new() { Domains = ["*.example.com"] }, inspect: ["dlp"]),
            Rule("block-all", PolicyActions.Block));

        var decision = policy.Decide(Flow());

        Assert.Equal(new Decision(PolicyAction.Allow, 1, "allow-example", InspectFlags.Dlp, null), decision);
        Assert.Equal(2, policy.Decide(Flow("example.org.evil")).RuleIndex);
    }

    [Fact]
    public void Disabled_rules_never_match_but_keep_their_index()
    {
        var policy = Compile(
            Rule("disabled-catch-all", PolicyActions.Block, enabled: false),
            Rule("caution-all", PolicyActions.Caution));

        var decision = policy.Decide(Flow());

        Assert.Equal(1, decision.RuleIndex);
        Assert.Equal("caution-all", decision.RuleName);
    }

    [Fact]
    public void Nothing_matching_is_allowed_by_default_with_rule_index_minus_one()
    {
        var policy = Compile(Rule("r", PolicyActions.Block, new() { Domains = ["example.org"] }));

        var decision = policy.Decide(Flow());

        Assert.Equal(new Decision(PolicyAction.Allow, -1, null, InspectFlags.None, null), decision);
        Assert.False(decision.MatchedRule);
    }

    [Fact]
    public void Disabled_user_is_blocked_before_any_rule()
    {
        var policy = Compile(Rule("allow-all", PolicyActions.Allow));

        var decision = policy.Decide(Flow() with { UserId = "u-eve" });

        Assert.Equal(PolicyAction.Block, decision.Action);
        Assert.Equal(Decision.UserDisabledIndex, decision.RuleIndex);
    }

    [Fact]
    public void Only_a_known_disabled_user_is_disabled()
    {
        var policy = Compile(Rule("allow-all", PolicyActions.Allow));

        Assert.Equal((true, false, false), (policy.IsUserDisabled("u-eve"), policy.IsUserDisabled("u-alice"), policy.IsUserDisabled("u-nobody")));
    }

    [Fact]
    public void Decision_names_the_most_specific_category_and_the_rules_own_when_it_names_categories()
    {
        var policy = Compile(
            Rule("block-news", PolicyActions.Block, new() { Categories = ["news"], Ports = ["80"] }),
            Rule("allow", PolicyActions.Allow));

        Assert.Equal("sports", policy.Decide(Flow("sports.news.example")).Category);
        Assert.Equal("news", policy.Decide(Flow("sports.news.example", port: 80)).Category);
        Assert.Equal("news", policy.Decide(Flow("www.news.example")).Category);
        Assert.Null(policy.Decide(Flow("www.example.com")).Category);
    }

    [Fact]
    public void Rule_beyond_the_first_64_is_found_in_later_bitset_words()
    {
        var rules = Enumerable.Range(0, 300).Select(i => Rule($"r{i}", PolicyActions.Block, new() { Domains = [$"host{i}.example.com"] })).ToArray();
        var policy = Compile(rules);

        for (var i = 0; i < 300; i += 37)
        {
            Assert.Equal(i, policy.Decide(Flow($"host{i}.example.com")).RuleIndex);
        }

        Assert.Equal(-1, policy.Decide(Flow("host300.example.com")).RuleIndex);
    }
}
