using System.Globalization;
using Gatehouse.Rollouts.Health;
using Gatehouse.Rollouts.Plans;
using Gatehouse.Wire.Updates;

namespace Gatehouse.Rollouts.Control;

/// <summary>Where a rollout is.</summary>
public enum RolloutStatus
{
    /// <summary>Moving through its stages.</summary>
    Running,

    /// <summary>Stopped at a stage, its devices kept on the new version, until an admin resumes or halts it (an inconclusive stage).</summary>
    Paused,

    /// <summary>Stopped because a stage failed; every device is sent back to the last good version.</summary>
    Halted,

    /// <summary>Every stage passed; the whole fleet has the new version.</summary>
    Completed,
}

/// <summary>What one evaluation decided.</summary>
public enum RolloutDecisionKind
{
    /// <summary>Nothing changes yet: the stage bakes or waits for devices.</summary>
    Wait,

    /// <summary>The stage passed and the next began.</summary>
    Advanced,

    /// <summary>The last stage passed.</summary>
    Completed,

    /// <summary>The stage failed; the rollout halted and rolls back.</summary>
    Halted,

    /// <summary>The stage was inconclusive; the rollout paused for an admin.</summary>
    Paused,
}

/// <summary>One evaluation's outcome, with the reason an admin reads.</summary>
/// <param name="Kind">What was decided.</param>
/// <param name="Stage">The stage it was decided at.</param>
/// <param name="Reason">Why, in words.</param>
public sealed record RolloutDecision(RolloutDecisionKind Kind, string Stage, string Reason);

/// <summary>
/// Which devices should run the new version now: those of the internal groups when
/// <see cref="Internal"/>, plus every device whose <see cref="RolloutCohort.Position"/> is below
/// <see cref="ShareBasisPoints"/>. Everything else, and everyone after a halt, runs the last good
/// version.
/// </summary>
/// <param name="Internal">Whether devices of the internal groups get the new version.</param>
/// <param name="ShareBasisPoints">The share of the rest of the fleet that gets it.</param>
public sealed record RolloutAssignment(bool Internal, int ShareBasisPoints)
{
    /// <summary>Nobody: the last good version everywhere.</summary>
    public static RolloutAssignment Nobody { get; } = new(false, 0);

    /// <summary>Whether a device gets the new version.</summary>
    /// <param name="position">The device's cohort position.</param>
    /// <param name="isInternal">Whether it belongs to an internal group.</param>
    /// <returns>Whether it gets the new version.</returns>
    public bool Includes(int position, bool isInternal) => (Internal && isInternal) || RolloutCohort.Includes(position, ShareBasisPoints);
}

/// <summary>
/// Moves one rollout through its plan. Each call to <see cref="Evaluate"/> judges the current
/// stage by what its devices reported:
/// <code>
///   any time      crashes or install failures clearly above the limit (Wilson bound, 2+ events)  -> Halted
///   bake time     not yet over                                                                      -> Wait
///   devices       fewer than the minimum reported: wait, until MaxWait past the bake time            -> Paused
///   rates         crash or install failure rate above the limit                                       -> Halted
///   comparison    canary worse than baseline, p below the significance                                -> Halted
///                 p below 0.05 but not below the significance                                         -> Paused
///   otherwise     next stage, or Completed after the last                                             -> Advanced
/// </code>
/// The controller holds no device list: membership follows from cohort positions, so a halted
/// and resumed rollout reaches exactly the devices it reached before.
/// </summary>
public sealed class RolloutController
{
    /// <summary>The p-value below which a comparison that did not fail is still too close to call.</summary>
    public const double InconclusiveBelow = 0.05;

    private readonly RolloutPlan plan;

    /// <summary>Starts a rollout at its first stage.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="startedAt">When it starts.</param>
    public RolloutController(RolloutPlan plan, DateTimeOffset startedAt)
        : this(plan, 0, RolloutStatus.Running, startedAt, null)
    {
    }

    /// <summary>Restores a rollout as stored.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="stageIndex">The current stage.</param>
    /// <param name="status">The status.</param>
    /// <param name="stageStartedAt">When the current stage began (or was resumed).</param>
    /// <param name="reason">Why it paused or halted, if it did.</param>
    public RolloutController(RolloutPlan plan, int stageIndex, RolloutStatus status, DateTimeOffset stageStartedAt, string? reason)
    {
        ArgumentNullException.ThrowIfNull(plan);
        plan.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(stageIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(stageIndex, plan.Stages.Count);
        this.plan = plan;
        StageIndex = stageIndex;
        Status = status;
        StageStartedAt = stageStartedAt;
        Reason = reason;
    }

    /// <summary>The plan.</summary>
    public RolloutPlan Plan => plan;

    /// <summary>The current stage's index.</summary>
    public int StageIndex { get; private set; }

    /// <summary>The current stage.</summary>
    public RolloutStage Stage => plan.Stages[StageIndex];

    /// <summary>The status.</summary>
    public RolloutStatus Status { get; private set; }

    /// <summary>When the current stage began or was last resumed.</summary>
    public DateTimeOffset StageStartedAt { get; private set; }

    /// <summary>Why the rollout paused or halted.</summary>
    public string? Reason { get; private set; }

    /// <summary>Which devices should run the new version now.</summary>
    public RolloutAssignment Assignment => Status switch
    {
        RolloutStatus.Halted => RolloutAssignment.Nobody,
        RolloutStatus.Completed => new RolloutAssignment(true, RolloutCohort.Everyone),
        _ => new RolloutAssignment(true, Stage.ShareBasisPoints),
    };

    /// <summary>Judges the current stage by <paramref name="health"/> at <paramref name="now"/>.</summary>
    /// <param name="now">The time.</param>
    /// <param name="health">What the stage's devices reported.</param>
    /// <returns>What was decided; the controller's state already reflects it.</returns>
    public RolloutDecision Evaluate(DateTimeOffset now, StageHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        if (Status != RolloutStatus.Running)
        {
            return new(RolloutDecisionKind.Wait, Stage.Name, $"the rollout is {Status.ToString().ToLowerInvariant()}");
        }

        var gates = Stage.Gates;
        if (ClearlyAbove(health.Failed, health.Updated, gates.MaxCrashRate))
        {
            return Halt($"{health.Failed} of {health.Updated} updated devices crashed or fell silent ({Percent(health.CrashRate)}; the limit is {Percent(gates.MaxCrashRate)})");
        }

        if (ClearlyAbove(health.InstallFailures, health.InstallAttempts, gates.MaxInstallFailureRate))
        {
            return Halt($"{health.InstallFailures} of {health.InstallAttempts} installs failed ({Percent(health.InstallFailureRate)}; the limit is {Percent(gates.MaxInstallFailureRate)})");
        }

        var elapsed = now - StageStartedAt;
        if (elapsed < gates.BakeTime)
        {
            return new(RolloutDecisionKind.Wait, Stage.Name, $"baking: {Hours(gates.BakeTime - elapsed)} to go");
        }

        if (health.Reporting < gates.MinReportingDevices)
        {
            if (elapsed > gates.BakeTime + gates.MaxWait)
            {
                return Pause($"inconclusive: only {health.Reporting} of the {gates.MinReportingDevices} devices needed reported within {Hours(gates.BakeTime + gates.MaxWait)}");
            }

            return new(RolloutDecisionKind.Wait, Stage.Name, $"waiting for devices: {health.Reporting} of {gates.MinReportingDevices} reported");
        }

        if (health.CrashRate > gates.MaxCrashRate)
        {
            return Halt($"{health.Failed} of {health.Updated} updated devices crashed or fell silent ({Percent(health.CrashRate)}; the limit is {Percent(gates.MaxCrashRate)})");
        }

        if (health.InstallFailureRate > gates.MaxInstallFailureRate)
        {
            return Halt($"{health.InstallFailures} of {health.InstallAttempts} installs failed ({Percent(health.InstallFailureRate)}; the limit is {Percent(gates.MaxInstallFailureRate)})");
        }

        if (health.CandidateMetric.Count >= gates.MinReportingDevices && health.BaselineMetric.Count >= gates.MinReportingDevices)
        {
            var p = Statistics.MannWhitneyGreater(health.CandidateMetric, health.BaselineMetric);
            if (p < gates.Significance)
            {
                return Halt($"updated devices are less healthy than the baseline (Mann–Whitney U, p = {p.ToString("0.####", CultureInfo.InvariantCulture)})");
            }

            if (p < InconclusiveBelow)
            {
                return Pause($"inconclusive: updated devices may be less healthy than the baseline (Mann–Whitney U, p = {p.ToString("0.####", CultureInfo.InvariantCulture)})");
            }
        }

        var passed = Stage.Name;
        if (StageIndex == plan.Stages.Count - 1)
        {
            Status = RolloutStatus.Completed;
            Reason = null;
            return new(RolloutDecisionKind.Completed, passed, $"stage {passed} passed; the rollout is complete");
        }

        StageIndex++;
        StageStartedAt = now;
        return new(RolloutDecisionKind.Advanced, passed, $"stage {passed} passed with {health.Reporting} devices reporting; now {Stage.Name}");
    }

    /// <summary>Halts the rollout by hand: every device goes back to the last good version.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The decision.</returns>
    public RolloutDecision Halt(string reason)
    {
        if (Status == RolloutStatus.Completed)
        {
            throw new InvalidOperationException("a completed rollout cannot be halted; roll out the previous version instead");
        }

        if (Status == RolloutStatus.Halted)
        {
            // The first reason stays: often the controller's own, naming what the devices reported.
            throw new InvalidOperationException($"the rollout is already halted: {Reason}");
        }

        Status = RolloutStatus.Halted;
        Reason = reason;
        return new(RolloutDecisionKind.Halted, Stage.Name, reason);
    }

    /// <summary>Pauses the rollout by hand at its current stage.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The decision.</returns>
    public RolloutDecision Pause(string reason)
    {
        if (Status != RolloutStatus.Running)
        {
            throw new InvalidOperationException($"only a running rollout can be paused; this one is {Status.ToString().ToLowerInvariant()}");
        }

        Status = RolloutStatus.Paused;
        Reason = reason;
        return new(RolloutDecisionKind.Paused, Stage.Name, reason);
    }

    /// <summary>
    /// Resumes a paused or halted rollout at the stage it stopped at; the stage's bake time starts
    /// again. The same devices are reached, as membership depends only on device and release.
    /// </summary>
    /// <param name="now">The time.</param>
    public void Resume(DateTimeOffset now)
    {
        if (Status is not (RolloutStatus.Paused or RolloutStatus.Halted))
        {
            throw new InvalidOperationException($"only a paused or halted rollout can be resumed; this one is {Status.ToString().ToLowerInvariant()}");
        }

        Status = RolloutStatus.Running;
        Reason = null;
        StageStartedAt = now;
    }

    // At least two failures and a 95% lower bound above the limit: one unlucky device does not halt a stage, two crash loops out of five do.
    private static bool ClearlyAbove(int failures, int trials, double limit) =>
        failures >= 2 && Statistics.WilsonLowerBound(failures, trials) > limit;

    private static string Percent(double rate) => rate.ToString("0.##%", CultureInfo.InvariantCulture);

    private static string Hours(TimeSpan span) => span.TotalHours >= 1
        ? $"{span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h"
        : $"{Math.Ceiling(span.TotalMinutes).ToString(CultureInfo.InvariantCulture)} min";
}
