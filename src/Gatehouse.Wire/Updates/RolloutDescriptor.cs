using System.Text.Json.Serialization;

namespace Gatehouse.Wire.Updates;

/// <summary>A version of a channel and the target path its artifact is published under.</summary>
/// <param name="Version">The version.</param>
/// <param name="Target">Its TUF target path (<c>content/bypass/42.json</c>).</param>
public sealed record ChannelVersion(string Version, string Target);

/// <summary>Keeps a group on one version whatever the rollout does.</summary>
/// <param name="GroupId">The user group.</param>
/// <param name="Version">The version its devices run.</param>
public sealed record VersionPin(Guid GroupId, ChannelVersion Version);

/// <summary>Holds a group back from the candidate until a time.</summary>
/// <param name="GroupId">The user group.</param>
/// <param name="Until">When its devices may take the candidate.</param>
public sealed record Deferral(Guid GroupId, DateTimeOffset Until);

/// <summary>
/// What a device of a tenant should run on one channel, published by the portal as a signed TUF
/// target (<c>rollouts/TENANT/CHANNEL.json</c>): the candidate for devices inside the current
/// share (by <see cref="RolloutCohort.Position"/> of device and <see cref="ReleaseId"/>) or in an
/// internal group, the baseline for the rest. A halt publishes a share of 0: everyone goes back
/// to the baseline, through a new signed version rather than a rollback the client would refuse.
/// </summary>
/// <param name="Channel">The channel.</param>
/// <param name="ReleaseId">What cohort positions are computed from.</param>
/// <param name="Candidate">The version being rolled out.</param>
/// <param name="Baseline">The last good version, or <see langword="null"/> when there was none.</param>
/// <param name="InternalGroupIds">Groups whose devices take the candidate first.</param>
/// <param name="Internal">Whether internal groups take the candidate now.</param>
/// <param name="ShareBasisPoints">The share of the rest of the fleet that takes it (0–10,000).</param>
/// <param name="Pins">Groups kept on a given version.</param>
/// <param name="Deferrals">Groups held back until a time.</param>
/// <param name="Status">running, paused, halted or completed (for people reading it).</param>
/// <param name="AudienceGroupIds">
/// The groups the rollout is for (a slow roll for chosen groups); devices of none of them, and not
/// internal, keep the baseline. Empty or absent: the whole tenant.
/// </param>
public sealed record RolloutDescriptor(
    string Channel,
    string ReleaseId,
    ChannelVersion Candidate,
    ChannelVersion? Baseline,
    IReadOnlyList<Guid> InternalGroupIds,
    bool Internal,
    int ShareBasisPoints,
    IReadOnlyList<VersionPin> Pins,
    IReadOnlyList<Deferral> Deferrals,
    string Status,
    IReadOnlyList<Guid>? AudienceGroupIds = null)
{
    /// <summary>The TUF target path of a tenant's descriptor for a channel.</summary>
    /// <param name="tenantId">The tenant.</param>
    /// <param name="channel">The channel.</param>
    /// <returns>The path.</returns>
    public static string TargetPath(Guid tenantId, string channel) => $"rollouts/{tenantId:D}/{channel}.json";

    /// <summary>The version a device should run.</summary>
    /// <param name="deviceId">The device.</param>
    /// <param name="groupIds">Its user's groups.</param>
    /// <param name="now">The time.</param>
    /// <returns>The version, or <see langword="null"/> when the device should keep what it has (no baseline).</returns>
    public ChannelVersion? VersionFor(Guid deviceId, IReadOnlyCollection<Guid> groupIds, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(groupIds);
        foreach (var pin in Pins)
        {
            if (groupIds.Contains(pin.GroupId))
            {
                return pin.Version;
            }
        }

        foreach (var deferral in Deferrals)
        {
            if (groupIds.Contains(deferral.GroupId) && now < deferral.Until)
            {
                return Baseline;
            }
        }

        var isInternal = InternalGroupIds.Any(groupIds.Contains);
        if (Internal && isInternal)
        {
            return Candidate;
        }

        var inAudience = AudienceGroupIds is not { Count: > 0 } audience || audience.Any(groupIds.Contains);
        return inAudience && RolloutCohort.Includes(RolloutCohort.Position(deviceId, ReleaseId), ShareBasisPoints)
            ? Candidate
            : Baseline;
    }
}

/// <summary>The update events a device reports.</summary>
public static class UpdateEvents
{
    /// <summary>The new version was downloaded, verified and put on trial.</summary>
    public const string Installed = "installed";

    /// <summary>The new version could not be installed (verification, disk).</summary>
    public const string InstallFailed = "install-failed";

    /// <summary>The trial version passed its health window.</summary>
    public const string Committed = "committed";

    /// <summary>The trial version was refused at load or crash-looped; the device went back by itself.</summary>
    public const string Reverted = "reverted";

    /// <summary>A periodic health report on the version in force.</summary>
    public const string Heartbeat = "heartbeat";

    /// <summary>Every event.</summary>
    public static readonly IReadOnlyList<string> All = [Installed, InstallFailed, Committed, Reverted, Heartbeat];
}

/// <summary>One update event of a device, sent to <c>POST /api/v1/device/update-events</c> with its certificate.</summary>
/// <param name="Channel">The channel (<c>bypass</c>, or <c>agent</c>).</param>
/// <param name="Version">The version the event is about.</param>
/// <param name="Event">One of <see cref="UpdateEvents"/>.</param>
/// <param name="Restarts">Role restarts since the last report, all roles together.</param>
/// <param name="Detail">Why, for failures (the loader's refusal).</param>
/// <param name="RoleRestarts">The same restarts by role (<see cref="AgentRoles"/>), for heartbeats.</param>
/// <param name="TunnelsOpened">Flows an edge answered since the last report.</param>
/// <param name="TunnelsFailed">Flows no edge answered since the last report.</param>
/// <remarks>Unknown fields are skipped, not refused: a node newer than its portal may add one (docs/operations.md, "Upgrading").</remarks>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
public sealed record UpdateEventReport(
    string Channel,
    string Version,
    string Event,
    int Restarts,
    string? Detail,
    IReadOnlyDictionary<string, int>? RoleRestarts = null,
    int TunnelsOpened = 0,
    int TunnelsFailed = 0);

/// <summary>The agent's processes, as heartbeats count their restarts.</summary>
public static class AgentRoles
{
    /// <summary>The privileged service: local API, enrollment, watchdog, agent updates.</summary>
    public const string Service = "service";

    /// <summary>The unprivileged data plane: proxy, tunnels, content.</summary>
    public const string DataPlane = "dataplane";

    /// <summary>Every role.</summary>
    public static readonly IReadOnlyList<string> All = [Service, DataPlane];
}

/// <summary>Agent builds as the repository publishes them and rollouts name them.</summary>
public static class AgentReleases
{
    /// <summary>The rollout channel of agent builds.</summary>
    public const string Channel = "agent";

    /// <summary>The target path of the Linux x64 build of <paramref name="version"/>.</summary>
    /// <param name="version">The version.</param>
    /// <returns>The path.</returns>
    public static string TargetPath(string version) => $"agent/{version}/gatehouse-agent-linux-x64.tar.gz";
}
