using Gatehouse.Wire.Updates;

namespace Gatehouse.Rollouts.Plans;

/// <summary>How a stage is judged: when it may be judged, and what fails it.</summary>
/// <param name="BakeTime">How long the stage runs before it can pass.</param>
/// <param name="MinReportingDevices">How many updated devices must report before it can pass (or be compared).</param>
/// <param name="MaxCrashRate">The share of updated devices that crash-loop, roll back or fall silent above which the stage fails.</param>
/// <param name="MaxInstallFailureRate">The share of install attempts that fail above which the stage fails.</param>
/// <param name="Significance">The one-sided p-value of the canary-versus-baseline comparison below which the stage fails.</param>
/// <param name="MaxWait">How long past the bake time a stage may wait for enough devices before it pauses as inconclusive.</param>
public sealed record StageGates(
    TimeSpan BakeTime,
    int MinReportingDevices,
    double MaxCrashRate,
    double MaxInstallFailureRate,
    double Significance,
    TimeSpan MaxWait)
{
    /// <summary>Gates for a stage of the default ring plan.</summary>
    /// <param name="bakeTime">The bake time.</param>
    /// <param name="minReportingDevices">The minimum number of reporting devices.</param>
    /// <returns>The gates.</returns>
    public static StageGates Default(TimeSpan bakeTime, int minReportingDevices) =>
        new(bakeTime, minReportingDevices, MaxCrashRate: 0.02, MaxInstallFailureRate: 0.05, Significance: 0.01, MaxWait: TimeSpan.FromDays(2));
}

/// <summary>One stage of a rollout.</summary>
/// <param name="Name">internal, canary, early, broad, or day-N of a slow roll.</param>
/// <param name="ShareBasisPoints">The share of the eligible fleet the stage covers, cumulative (0–10,000).</param>
/// <param name="InternalOnly">Whether the stage covers only devices of the internal groups, whatever their position.</param>
/// <param name="Gates">How it is judged.</param>
public sealed record RolloutStage(string Name, int ShareBasisPoints, bool InternalOnly, StageGates Gates);

/// <summary>The stages a rollout moves through, in order.</summary>
/// <param name="Stages">The stages; shares never shrink from one to the next.</param>
public sealed record RolloutPlan(IReadOnlyList<RolloutStage> Stages)
{
    /// <summary>
    /// The ring plan: internal groups, a canary of 1%, an early ring of 10%, then everyone. The
    /// canary is the stage that must catch a bad release, so it fails on few devices.
    /// </summary>
    /// <param name="internalRing">Whether the tenant has internal groups to go first; without, the canary is the first ring.</param>
    /// <returns>The plan.</returns>
    public static RolloutPlan Rings(bool internalRing = true)
    {
        RolloutStage[] rings =
        [
            new("internal", 0, InternalOnly: true, StageGates.Default(TimeSpan.FromHours(4), minReportingDevices: 5)),
            new("canary", 100, InternalOnly: false, StageGates.Default(TimeSpan.FromHours(24), minReportingDevices: 50)),
            new("early", 1_000, InternalOnly: false, StageGates.Default(TimeSpan.FromHours(48), minReportingDevices: 500)),
            new("broad", RolloutCohort.Everyone, InternalOnly: false, StageGates.Default(TimeSpan.FromHours(48), minReportingDevices: 500)),
        ];
        return new RolloutPlan(internalRing ? rings : rings[1..]);
    }

    /// <summary>
    /// A slow roll over <paramref name="days"/> days for chosen groups: an equal share more each
    /// day, each day a stage of its own.
    /// </summary>
    /// <param name="days">How many days (7 by default).</param>
    /// <param name="minReportingDevices">How many devices must report each day.</param>
    /// <returns>The plan.</returns>
    public static RolloutPlan SlowRoll(int days = 7, int minReportingDevices = 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        var stages = new List<RolloutStage>(days);
        for (var day = 1; day <= days; day++)
        {
            stages.Add(new($"day-{day}", RolloutCohort.Everyone * day / days, InternalOnly: false, StageGates.Default(TimeSpan.FromDays(1), minReportingDevices)));
        }

        return new RolloutPlan(stages);
    }

    /// <summary>Refuses a plan whose shares shrink or leave the 0–10,000 range, or that has no stage.</summary>
    /// <exception cref="ArgumentException">The plan is refused, with the reason.</exception>
    public void Validate()
    {
        if (Stages.Count == 0)
        {
            throw new ArgumentException("a rollout plan needs at least one stage");
        }

        var previous = 0;
        foreach (var stage in Stages)
        {
            if (stage.ShareBasisPoints is < 0 or > RolloutCohort.Everyone)
            {
                throw new ArgumentException($"stage {stage.Name}: the share must be 0 to 10000 basis points");
            }

            if (stage.ShareBasisPoints < previous)
            {
                throw new ArgumentException($"stage {stage.Name}: the share may only grow ({stage.ShareBasisPoints} after {previous})");
            }

            if (stage.Gates.MinReportingDevices < 1 || stage.Gates.BakeTime < TimeSpan.Zero)
            {
                throw new ArgumentException($"stage {stage.Name}: needs at least one reporting device and a bake time of zero or more");
            }

            previous = stage.ShareBasisPoints;
        }
    }
}
