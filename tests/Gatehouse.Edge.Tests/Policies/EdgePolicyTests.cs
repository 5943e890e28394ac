using System.Text.Json.Nodes;
using Gatehouse.Edge.Operations;
using Gatehouse.Edge.Policies;
using Gatehouse.Node.Config;
using Gatehouse.Policy.Decisions;

namespace Gatehouse.Edge.Tests.Policies;

public sealed class EdgePolicyTests : IDisposable
{
    private readonly EdgeMetrics _metrics = new();
    private readonly EdgePolicy _policy;

    public EdgePolicyTests()
    {
        _policy = new EdgePolicy(_metrics);
        _metrics.Observe(_policy, () => new BundleFollowerStatus(PortalConnection.Unreachable, DateTimeOffset.UnixEpoch, null, null, null));
    }

    public void Dispose() => _metrics.Dispose();

    private static JsonObject Body(string rules) => JsonNode.Parse($$"""
        { "policy": {{rules}}, "categories": { "news": ["news.example"] } }
        """)!.AsObject();

    private static Decision Decide(EdgePolicy policy, string host)
    {
        var flow = new FlowContext { Host = host, Port = 443, Protocol = FlowProtocol.Https };
        return policy.Holder.Decide(flow);
    }

    private double Metric(string name)
    {
        var line = _metrics.Exporter.Render().Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void A_bundle_whose_policy_compiles_is_put_in_force()
    {
        Assert.Null(_policy.State);

        var outcome = _policy.Apply(4, Body("""[{ "name": "no-news", "action": "block", "criteria": { "categories": ["news"] } }]"""));

        Assert.Equal(EdgePolicyOutcome.Applied, outcome);
        Assert.Equal(4, _policy.State!.Version);
        Assert.Equal(1, _policy.State.RuleCount);
        Assert.Equal(PolicyAction.Block, Decide(_policy, "www.news.example").Action);
        Assert.Equal(4, Metric("gatehouse_edge_policy_version"));
        Assert.Equal(1, Metric("gatehouse_edge_policy_rules"));
        Assert.Equal(1, Metric("gatehouse_edge_bundles_accepted_total"));
    }

    [Fact]
    public void A_bundle_naming_an_unknown_category_leaves_the_previous_policy_in_force_and_is_counted()
    {
        _policy.Apply(4, Body("""[{ "name": "no-news", "action": "block", "criteria": { "categories": ["news"] } }]"""));

        var outcome = _policy.Apply(5, Body("""
            [{ "name": "no-news", "action": "block", "criteria": { "categories": ["news"] } },
             { "name": "no-gambling", "action": "block", "criteria": { "categories": ["gamblng"] } }]
            """));

        Assert.Equal(EdgePolicyOutcome.Refused, outcome);
        Assert.Equal(4, _policy.State!.Version);
        Assert.Equal(1, _policy.State.RuleCount);
        Assert.Contains("rule 1 'no-gambling'", _policy.LastError, StringComparison.Ordinal);
        Assert.Contains("gamblng", _policy.LastError, StringComparison.Ordinal);
        Assert.Equal(PolicyAction.Block, Decide(_policy, "www.news.example").Action);
        Assert.Equal(1, Metric("gatehouse_edge_policy_compile_failures_total"));
        Assert.Equal(4, Metric("gatehouse_edge_policy_version"));
    }

    [Fact]
    public void A_malformed_policy_is_refused_with_its_path()
    {
        var outcome = _policy.Apply(2, Body("""[{ "name": "x", "action": 7 }]"""));

        Assert.Equal(EdgePolicyOutcome.Refused, outcome);
        Assert.Null(_policy.State);
        Assert.Contains("policy[0].action", _policy.LastError, StringComparison.Ordinal);
        Assert.Equal(1, Metric("gatehouse_edge_policy_compile_failures_total"));
        Assert.Equal(PolicyAction.Allow, Decide(_policy, "www.news.example").Action);
    }

    // A newer portal that adds a criterion, or a rule field, writes bundles this edge cannot enforce as written:
    // dropping what it does not know would make the allow rule below allow every site, not one.
    [Theory]
    [InlineData("""{ "domains": ["intranet.example"], "countries": ["CH"] }""", "policy[1].criteria.countries")]
    [InlineData("""{ "domains": ["intranet.example"], "schedule": { "days": ["mon"], "from": "08:00", "to": "18:00", "holidays": "ch" } }""", "policy[1].criteria.schedule.holidays")]
    public void A_rule_with_a_criterion_this_edge_does_not_know_is_refused_not_widened(string criteria, string path)
    {
        _policy.Apply(4, Body("""[{ "name": "no-news", "action": "block", "criteria": { "categories": ["news"] } }]"""));

        var outcome = _policy.Apply(5, Body($$"""
            [{ "name": "intranet", "action": "allow", "criteria": { "domains": ["intranet.example"] } },
             { "name": "swiss-intranet", "action": "allow", "criteria": {{criteria}} },
             { "name": "block-rest", "action": "block" }]
            """));

        Assert.Equal(EdgePolicyOutcome.Refused, outcome);
        Assert.Contains(path, _policy.LastError, StringComparison.Ordinal);
        Assert.Equal(4, _policy.State!.Version);
        Assert.Equal(PolicyAction.Block, Decide(_policy, "www.news.example").Action);
        Assert.Equal(1, Metric("gatehouse_edge_policy_compile_failures_total"));
    }

    [Fact]
    public void A_rule_with_a_field_this_edge_does_not_know_is_refused()
    {
        var outcome = _policy.Apply(5, Body("""[{ "name": "intranet", "action": "allow", "criteria": {}, "unless": { "domains": ["intranet.example"] } }]"""));

        Assert.Equal(EdgePolicyOutcome.Refused, outcome);
        Assert.Contains("policy[0].unless is a rule field this edge does not know", _policy.LastError, StringComparison.Ordinal);
        Assert.Null(_policy.State);
    }

    [Fact]
    public void A_newer_good_bundle_after_a_refused_one_is_put_in_force_and_an_older_one_is_ignored()
    {
        _policy.Apply(4, Body("[]"));
        _policy.Apply(5, Body("""[{ "name": "bad", "action": "explode" }]"""));

        Assert.Equal(EdgePolicyOutcome.Applied, _policy.Apply(6, Body("""[{ "name": "all", "action": "block" }]""")));
        Assert.Equal(EdgePolicyOutcome.NotNewer, _policy.Apply(3, Body("[]")));

        Assert.Equal(6, _policy.State!.Version);
        Assert.Null(_policy.LastError);
        Assert.Equal(PolicyAction.Block, Decide(_policy, "anything.example").Action);
    }
}
