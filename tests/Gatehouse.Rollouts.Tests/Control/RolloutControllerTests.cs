using Gatehouse.Rollouts.Control;
using Gatehouse.Rollouts.Health;
using Gatehouse.Rollouts.Plans;
using Gatehouse.Wire.Updates;

namespace Gatehouse.Rollouts.Tests.Control;

public sealed class RolloutControllerTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_healthy_release_passes_every_ring_after_its_bake_time()
    {
        var controller = new RolloutController(RolloutPlan.Rings(), Start);
        var now = Start;
        var stages = new List<string>();
        while (controller.Status == RolloutStatus.Running)
        {
            var decision = controller.Evaluate(now, Healthy(1000));
            if (decision.Kind is RolloutDecisionKind.Advanced or RolloutDecisionKind.Completed)
            {
                stages.Add(decision.Stage);
            }

            now += TimeSpan.FromHours(1);
        }

        Assert.Equal(RolloutStatus.Completed, controller.Status);
        Assert.Equal(["internal", "canary", "early", "broad"], stages);
        Assert.Equal(new RolloutAssignment(true, RolloutCohort.Everyone), controller.Assignment);
        Assert.InRange((now - Start).TotalHours, 4 + 24 + 48 + 48, 4 + 24 + 48 + 48 + 5);
    }

    [Fact]
    public void Two_crash_loops_among_the_first_devices_halt_at_once_and_send_everyone_back()
    {
        var controller = new RolloutController(RolloutPlan.Rings(), Start);

        var decision = controller.Evaluate(Start.AddMinutes(3), new StageHealth(4, 0, 4, 2, 2, 0, [], []));

        Assert.Equal(RolloutDecisionKind.Halted, decision.Kind);
        Assert.Equal("internal", decision.Stage);
        Assert.Contains("2 of 4 updated devices crashed", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(RolloutAssignment.Nobody, controller.Assignment);
    }

    [Fact]
    public void One_crash_among_many_does_not_halt_a_stage()
    {
        var controller = new RolloutController(RolloutPlan.Rings(), Start);

        Assert.Equal(RolloutDecisionKind.Wait, controller.Evaluate(Start.AddMinutes(3), new StageHealth(40, 0, 40, 40, 1, 0, [], [])).Kind);
    }

    [Fact]
    public void Devices_that_fall_silent_after_updating_count_as_failures()
    {
        var controller = new RolloutController(RolloutPlan.Rings(), Start);

        var decision = controller.Evaluate(Start.AddMinutes(30), new StageHealth(10, 0, 10, 4, 0, 6, [], []));

        Assert.Equal(RolloutDecisionKind.Halted, decision.Kind);
    }

    [Fact]
    public void Install_failures_above_the_limit_halt()
    {
        var controller = new RolloutController(RolloutPlan.Rings(), Start);

        Assert.Equal(RolloutDecisionKind.Halted, controller.Evaluate(Start.AddMinutes(5), new StageHealth(20, 6, 14, 14, 0, 0, [], [])).Kind);
    }

    [Fact]
    public void A_stage_without_enough_devices_waits_then_pauses_as_inconclusive_and_resumes_at_the_same_stage()
    {
        var controller = new RolloutController(RolloutPlan.Rings(), Start);
        var few = Healthy(3);

        Assert.Equal(RolloutDecisionKind.Wait, controller.Evaluate(Start.AddHours(5), few).Kind);
        var paused = controller.Evaluate(Start.AddHours(4) + TimeSpan.FromDays(2) + TimeSpan.FromMinutes(1), few);
        Assert.Equal(RolloutDecisionKind.Paused, paused.Kind);
        Assert.Contains("only 3 of the 5", paused.Reason, StringComparison.Ordinal);
        Assert.Equal(new RolloutAssignment(true, 0), controller.Assignment);

        var resumedAt = Start.AddDays(3);
        controller.Resume(resumedAt);
        Assert.Equal("internal", controller.Stage.Name);
        Assert.Equal(RolloutDecisionKind.Wait, controller.Evaluate(resumedAt.AddHours(1), Healthy(100)).Kind);
        Assert.Equal(RolloutDecisionKind.Advanced, controller.Evaluate(resumedAt.AddHours(4), Healthy(100)).Kind);
    }

    [Fact]
    public void A_canary_less_healthy_than_the_baseline_halts_even_under_the_hard_limits()
    {
        var controller = new RolloutController(RolloutPlan.Rings(), Start);
        controller.Evaluate(Start.AddHours(4), Healthy(100)); // internal passes
        var random = new Random(3);
        var baseline = Enumerable.Range(0, 200).Select(_ => random.NextDouble() < 0.1 ? 1.0 : 0.0).ToList();
        var candidate = Enumerable.Range(0, 200).Select(_ => random.NextDouble() < 0.4 ? 1.0 : 0.0).ToList();

        var decision = controller.Evaluate(Start.AddHours(4 + 24), new StageHealth(200, 0, 200, 200, 0, 0, candidate, baseline));

        Assert.Equal(RolloutDecisionKind.Halted, decision.Kind);
        Assert.Equal("canary", decision.Stage);
        Assert.Contains("Mann–Whitney", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_halted_rollout_resumes_at_its_stage_with_the_same_share()
    {
        var controller = new RolloutController(RolloutPlan.Rings(), Start);
        controller.Evaluate(Start.AddHours(4), Healthy(100));
        var before = controller.Stage.ShareBasisPoints;
        controller.Halt("admin stopped it");
        Assert.Equal(RolloutAssignment.Nobody, controller.Assignment);

        controller.Resume(Start.AddHours(10));

        Assert.Equal(before, controller.Assignment.ShareBasisPoints);
        Assert.Equal("canary", controller.Stage.Name);
    }

    [Fact]
    public void A_slow_roll_grows_by_an_equal_share_each_day()
    {
        var plan = RolloutPlan.SlowRoll(7);

        Assert.Equal(7, plan.Stages.Count);
        Assert.Equal([1428, 2857, 4285, 5714, 7142, 8571, 10000], plan.Stages.Select(s => s.ShareBasisPoints));
    }

    [Fact]
    public void A_plan_whose_share_shrinks_is_refused()
    {
        var gates = StageGates.Default(TimeSpan.FromHours(1), 1);
        var plan = new RolloutPlan([new("a", 500, false, gates), new("b", 100, false, gates)]);

        var error = Assert.Throws<ArgumentException>(plan.Validate);

        Assert.Contains("may only grow", error.Message, StringComparison.Ordinal);
    }

    private static StageHealth Healthy(int devices) =>
        new(devices, 0, devices, devices, 0, 0, [.. Enumerable.Repeat(0.0, devices)], [.. Enumerable.Repeat(0.0, devices)]);
}
