namespace Gatehouse.Wire.Api;

/// <summary>A published version of a content channel.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Version">The version.</param>
/// <param name="Target">Its TUF target path.</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="Sha256">Its SHA-256.</param>
/// <param name="Records">How many records the loader read.</param>
public sealed record ContentVersionDto(string Channel, string Version, string Target, long Length, string Sha256, int Records);

/// <summary>The rollout plans the portal knows.</summary>
public static class RolloutPlans
{
    /// <summary>Internal groups, canary 1%, early 10%, broad.</summary>
    public const string Rings = "rings";

    /// <summary>An equal share more each day over a number of days.</summary>
    public const string SlowRoll = "slow-roll";

    /// <summary>Every plan.</summary>
    public static readonly IReadOnlyList<string> All = [Rings, SlowRoll];
}

/// <summary>Starts a rollout of a version to the caller's tenant.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Version">The version to roll out (published already).</param>
/// <param name="Plan">One of <see cref="RolloutPlans"/>; rings by default.</param>
/// <param name="Days">Days of a slow roll (7 by default).</param>
/// <param name="InternalGroupIds">Groups that go first (the internal ring).</param>
/// <param name="Pins">Groups kept on a version: the version, or <c>N</c> (the candidate) or <c>N-1</c> (the baseline).</param>
/// <param name="DeferDays">Groups held back by a number of days.</param>
/// <param name="BakeMinutes">Overrides every stage's bake time (for small fleets and tests).</param>
/// <param name="MinDevices">Overrides every stage's minimum number of reporting devices.</param>
/// <param name="CanaryBasisPoints">The canary ring's share of the tenant's devices, in basis points (100 = 1%, the default).</param>
/// <param name="GroupIds">The groups the rollout is for; the rest of the tenant keeps the baseline. None: the whole tenant.</param>
public sealed record CreateRolloutRequest(
    string Channel,
    string Version,
    string? Plan = null,
    int? Days = null,
    IReadOnlyList<Guid>? InternalGroupIds = null,
    IReadOnlyDictionary<Guid, string>? Pins = null,
    IReadOnlyDictionary<Guid, int>? DeferDays = null,
    int? BakeMinutes = null,
    int? MinDevices = null,
    int? CanaryBasisPoints = null,
    IReadOnlyList<Guid>? GroupIds = null);

/// <summary>Halts or pauses a rollout by hand.</summary>
/// <param name="Reason">Why, for the record; the portal says "halted by an admin" or "paused by an admin" without one.</param>
public sealed record RolloutActionRequest(string? Reason = null);

/// <summary>What a stage's devices reported, as the controller judged it.</summary>
/// <param name="InstallAttempts">Devices that tried to install.</param>
/// <param name="InstallFailures">Of those, the failed ones.</param>
/// <param name="Updated">Devices that installed it.</param>
/// <param name="Reporting">Updated devices that reported since.</param>
/// <param name="Crashed">Updated devices that went back by themselves.</param>
/// <param name="Silent">Updated devices that fell silent.</param>
/// <param name="Restarts">Role restarts the updated devices reported since updating.</param>
/// <param name="TunnelsOpened">Flows an edge answered on the updated devices since updating.</param>
/// <param name="TunnelsFailed">Flows no edge answered on the updated devices since updating.</param>
public sealed record RolloutHealthDto(int InstallAttempts, int InstallFailures, int Updated, int Reporting, int Crashed, int Silent, int Restarts = 0, long TunnelsOpened = 0, long TunnelsFailed = 0);

/// <summary>A rollout.</summary>
/// <param name="Id">Its id.</param>
/// <param name="Channel">The channel.</param>
/// <param name="Version">The version rolled out.</param>
/// <param name="BaselineVersion">The last good version devices go back to.</param>
/// <param name="Plan">The plan.</param>
/// <param name="Stage">The current stage.</param>
/// <param name="Stages">Every stage, in order.</param>
/// <param name="ShareBasisPoints">The share of devices that take the version now.</param>
/// <param name="Status">running, paused, halted or completed.</param>
/// <param name="Reason">Why it paused or halted.</param>
/// <param name="Health">What its devices reported at the last evaluation.</param>
/// <param name="CreatedAt">When it started.</param>
/// <param name="UpdatedAt">When its state last changed.</param>
/// <param name="GroupIds">The groups it is for; empty: the whole tenant.</param>
/// <param name="InternalGroupIds">The groups that go first (the internal ring).</param>
/// <param name="Pins">Groups kept on a version, with the version.</param>
/// <param name="DeferredUntil">Groups held back, with when their hold ends.</param>
public sealed record RolloutDto(
    Guid Id,
    string Channel,
    string Version,
    string? BaselineVersion,
    string Plan,
    string Stage,
    IReadOnlyList<string> Stages,
    int ShareBasisPoints,
    string Status,
    string? Reason,
    RolloutHealthDto? Health,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<Guid>? GroupIds = null,
    IReadOnlyList<Guid>? InternalGroupIds = null,
    IReadOnlyDictionary<Guid, string>? Pins = null,
    IReadOnlyDictionary<Guid, DateTimeOffset>? DeferredUntil = null);
