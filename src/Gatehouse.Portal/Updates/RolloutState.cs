using Gatehouse.Rollouts.Control;
using Gatehouse.Rollouts.Plans;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Updates;

namespace Gatehouse.Portal.Updates;

/// <summary>Between a stored <see cref="Rollout"/> and the controller, descriptor and view made from it.</summary>
internal static class RolloutState
{
    public static RolloutPlan PlanOf(Rollout rollout)
    {
        var plan = rollout.Plan == RolloutPlans.SlowRoll ? RolloutPlan.SlowRoll(rollout.Days) : RolloutPlan.Rings(internalRing: rollout.InternalGroupIds.Count > 0);
        if (rollout.BakeMinutes is null && rollout.MinDevices is null && rollout.CanaryBasisPoints is null)
        {
            return plan;
        }

        // A larger canary also lifts later rings that would be smaller: shares only grow.
        var canary = rollout.CanaryBasisPoints;
        return new RolloutPlan([.. plan.Stages.Select(stage => stage with
        {
            ShareBasisPoints = canary is { } share && stage.Name != "internal" && (stage.Name == "canary" || stage.ShareBasisPoints < share) ? share : stage.ShareBasisPoints,
            Gates = stage.Gates with
            {
                BakeTime = rollout.BakeMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : stage.Gates.BakeTime,
                MinReportingDevices = rollout.MinDevices ?? stage.Gates.MinReportingDevices,
            },
        })]);
    }

    public static RolloutController ControllerOf(Rollout rollout) =>
        new(PlanOf(rollout), rollout.StageIndex, Enum.Parse<RolloutStatus>(rollout.Status, ignoreCase: true), rollout.StageStartedAt, rollout.Reason);

    /// <summary>Copies the controller's state into the stored rollout; returns whether anything devices see changed.</summary>
    public static bool Store(Rollout rollout, RolloutController controller, DateTimeOffset now)
    {
        var status = controller.Status.ToString().ToLowerInvariant();
        var changed = rollout.StageIndex != controller.StageIndex || rollout.Status != status;
        rollout.StageIndex = controller.StageIndex;
        rollout.Status = status;
        rollout.StageStartedAt = controller.StageStartedAt;
        rollout.Reason = controller.Reason;
        if (changed)
        {
            rollout.UpdatedAt = now;
            rollout.Revision++;
        }

        return changed;
    }

    public static RolloutDescriptor Describe(Rollout rollout)
    {
        var controller = ControllerOf(rollout);
        var assignment = controller.Assignment;
        return new RolloutDescriptor(
            rollout.Channel,
            ReleaseId(rollout),
            Version(rollout.Channel, rollout.Version),
            rollout.BaselineVersion is { } baseline ? Version(rollout.Channel, baseline) : null,
            rollout.InternalGroupIds,
            assignment.Internal,
            assignment.ShareBasisPoints,
            [.. rollout.Pins.Select(p => new VersionPin(p.Key, Version(rollout.Channel, p.Value)))],
            [.. rollout.Deferrals.Select(d => new Deferral(d.Key, d.Value))],
            rollout.Status,
            rollout.AudienceGroupIds);
    }

    /// <summary>What cohort positions are computed from: channel and version, so a new rollout of the same version reaches the same devices first.</summary>
    public static string ReleaseId(Rollout rollout) => $"{rollout.Channel}/{rollout.Version}";

    public static RolloutDto ToDto(this Rollout rollout)
    {
        var controller = ControllerOf(rollout);
        return new RolloutDto(
            rollout.Id,
            rollout.Channel,
            rollout.Version,
            rollout.BaselineVersion,
            rollout.Plan,
            controller.Stage.Name,
            [.. controller.Plan.Stages.Select(s => s.Name)],
            controller.Assignment.ShareBasisPoints,
            rollout.Status,
            rollout.Reason,
            rollout.Health,
            rollout.CreatedAt,
            rollout.UpdatedAt,
            rollout.AudienceGroupIds,
            rollout.InternalGroupIds,
            rollout.Pins,
            rollout.Deferrals);
    }

    private static ChannelVersion Version(string channel, string version) => new(version, UpdateRepository.TargetOf(channel, version));
}
