using Gatehouse.Wire.Updates;

namespace Gatehouse.Rollouts.Tests.Plans;

public sealed class RolloutCohortTests
{
    [Fact]
    public void A_position_depends_on_device_and_release_only()
    {
        var device = Guid.NewGuid();

        Assert.Equal(RolloutCohort.Position(device, "agent-1.4.0"), RolloutCohort.Position(device, "agent-1.4.0"));
        Assert.InRange(RolloutCohort.Position(device, "agent-1.4.0"), 0, RolloutCohort.Everyone - 1);
    }

    [Fact]
    public void One_percent_takes_about_one_device_in_a_hundred_and_another_release_takes_others()
    {
        var devices = Enumerable.Range(0, 100_000).Select(_ => Guid.NewGuid()).ToList();

        var first = devices.Where(d => RolloutCohort.Includes(RolloutCohort.Position(d, "content-41"), 100)).ToHashSet();
        var second = devices.Where(d => RolloutCohort.Includes(RolloutCohort.Position(d, "content-42"), 100)).ToHashSet();

        Assert.InRange(first.Count, 850, 1150);
        Assert.InRange(first.Intersect(second).Count(), 0, 40);
    }

    [Fact]
    public void A_growing_share_only_adds_devices()
    {
        var devices = Enumerable.Range(0, 10_000).Select(_ => Guid.NewGuid()).ToList();
        var canary = devices.Where(d => RolloutCohort.Includes(RolloutCohort.Position(d, "r"), 100)).ToHashSet();
        var early = devices.Where(d => RolloutCohort.Includes(RolloutCohort.Position(d, "r"), 1000)).ToHashSet();

        Assert.Subset(early, canary);
    }
}
