using Gatehouse.Wire.Updates;

namespace Gatehouse.Rollouts.Tests.Plans;

/// <summary>
/// A group plays one part in a rollout: each clash the rule refuses is one where the descriptor would follow one part
/// and ignore the other. A hold on a group outside the audience is no clash: it holds back its members in the audience.
/// </summary>
public sealed class RolloutGroupPartsTests
{
    private static readonly ChannelVersion Candidate = new("2", "content/bypass/2.json");
    private static readonly ChannelVersion Baseline = new("1", "content/bypass/1.json");
    private static readonly ChannelVersion Older = new("0", "content/bypass/0.json");
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly Guid _group = Guid.NewGuid();

    [Fact]
    public void A_pinned_group_also_held_back_follows_its_pin_so_the_two_clash()
    {
        var descriptor = Descriptor(pins: [new VersionPin(_group, Candidate)], deferrals: [new Deferral(_group, Now.AddDays(3))]);

        Assert.Equal(Candidate, descriptor.VersionFor(Guid.NewGuid(), [_group], Now));
        Assert.Equal(new RolloutGroupClash(_group, RolloutGroupPart.Pinned, RolloutGroupPart.Deferred), RolloutGroupParts.FirstClash([], [_group], [_group]));
    }

    [Fact]
    public void A_pinned_group_also_in_the_internal_ring_follows_its_pin_so_the_two_clash()
    {
        var descriptor = Descriptor(internalGroups: [_group], pins: [new VersionPin(_group, Older)]);

        Assert.Equal(Older, descriptor.VersionFor(Guid.NewGuid(), [_group], Now));
        Assert.Equal(new RolloutGroupClash(_group, RolloutGroupPart.Pinned, RolloutGroupPart.Internal), RolloutGroupParts.FirstClash([_group], [_group], []));
    }

    [Fact]
    public void A_group_held_back_also_in_the_internal_ring_waits_so_the_two_clash()
    {
        var descriptor = Descriptor(internalGroups: [_group], deferrals: [new Deferral(_group, Now.AddDays(3))]);

        Assert.Equal(Baseline, descriptor.VersionFor(Guid.NewGuid(), [_group], Now));
        Assert.Equal(new RolloutGroupClash(_group, RolloutGroupPart.Deferred, RolloutGroupPart.Internal), RolloutGroupParts.FirstClash([_group], [], [_group]));
    }

    [Fact]
    public void Groups_with_one_part_each_do_not_clash_and_a_group_named_twice_in_one_part_is_one_part()
    {
        Assert.Null(RolloutGroupParts.FirstClash([_group, _group], [Guid.NewGuid()], [Guid.NewGuid()]));
    }

    [Fact]
    public void A_hold_on_a_group_outside_the_audience_holds_back_its_members_who_are_in_the_audience()
    {
        // Users are in several groups: "roll out to engineering, hold contractors back" is a hold outside the audience.
        var engineering = Guid.NewGuid();
        var descriptor = Descriptor(deferrals: [new Deferral(_group, Now.AddDays(3))], audience: [engineering]);

        Assert.Equal(Candidate, descriptor.VersionFor(Guid.NewGuid(), [engineering], Now));
        Assert.Equal(Baseline, descriptor.VersionFor(Guid.NewGuid(), [engineering, _group], Now));
        Assert.Equal(Candidate, descriptor.VersionFor(Guid.NewGuid(), [engineering, _group], Now.AddDays(3)));
    }

    // Everyone's share and the internal ring on, so only pins, holds and the audience keep a device off the candidate.
    private static RolloutDescriptor Descriptor(Guid[]? internalGroups = null, VersionPin[]? pins = null, Deferral[]? deferrals = null, Guid[]? audience = null) =>
        new("bypass", "bypass-2", Candidate, Baseline, internalGroups ?? [], Internal: true, RolloutCohort.Everyone, pins ?? [], deferrals ?? [], "running", audience);
}
