using Gatehouse.Policy.Decisions;
using Gatehouse.Wire.Policy;
using static Gatehouse.Policy.Tests.Policies;

namespace Gatehouse.Policy.Tests.Decisions;

public sealed class PolicyHolderTests
{
    [Fact]
    public void Empty_holder_allows_everything_by_default()
    {
        var holder = new PolicyHolder();

        Assert.Equal(-1, holder.Decide(Flow()).RuleIndex);
    }

    [Fact]
    public void Good_update_takes_effect_and_bad_update_changes_nothing()
    {
        var holder = new PolicyHolder();
        var good = holder.TryUpdate(Source(Rule("block-example", PolicyActions.Block, new() { Domains = ["*.example.com"] })));
        var inForce = holder.Current;

        var bad = holder.TryUpdate(Source(
            Rule("allow-all", PolicyActions.Allow),
            Rule("broken", PolicyActions.Block, new() { Cidrs = ["10.0.0.300/8"] })));

        Assert.True(good.Succeeded);
        Assert.False(bad.Succeeded);
        Assert.Equal(1, bad.Error!.RuleIndex);
        Assert.Same(inForce, holder.Current);
        Assert.Equal(PolicyAction.Block, holder.Decide(Flow()).Action);
    }

    [Fact]
    public void Flow_keeps_the_policy_it_took_while_another_is_swapped_in()
    {
        var holder = new PolicyHolder();
        holder.TryUpdate(Source(Rule("block-all", PolicyActions.Block)));
        var taken = holder.Current;

        holder.TryUpdate(Source(Rule("allow-all", PolicyActions.Allow)));

        Assert.Equal(PolicyAction.Block, taken.Decide(Flow()).Action);
        Assert.Equal(PolicyAction.Allow, holder.Current.Decide(Flow()).Action);
    }
}
