namespace Gatehouse.Node.Config;

/// <summary>How a node stands with the portal's config service, for status displays.</summary>
public enum PortalConnection
{
    /// <summary>No answer yet since the follower started.</summary>
    Starting,

    /// <summary>The last call got an answer (a bundle or "unchanged").</summary>
    Connected,

    /// <summary>The portal cannot be reached, timed out, or answers 5xx; the bundle in force stays.</summary>
    Unreachable,

    /// <summary>The portal refuses the node (such as a revoked or replaced certificate); the bundle in force stays.</summary>
    Refused,
}

/// <summary>A snapshot of the follower's state.</summary>
/// <param name="Connection">How the node stands with the portal.</param>
/// <param name="Since">When <paramref name="Connection"/> began, such as "portal unreachable since".</param>
/// <param name="LastContact">When the portal last answered, or <see langword="null"/> if never since start.</param>
/// <param name="LastError">The last failure or refused bundle, as a plain sentence; <see langword="null"/> when none since start.</param>
/// <param name="Version">The version of the bundle in force, or <see langword="null"/> when none.</param>
public sealed record BundleFollowerStatus(PortalConnection Connection, DateTimeOffset Since, DateTimeOffset? LastContact, string? LastError, long? Version)
{
    /// <summary>When <see cref="LastError"/> last happened: an error that stays after the portal answers again is old news.</summary>
    public DateTimeOffset? LastErrorAt { get; init; }
}

/// <summary>Tuning of a <see cref="BundleFollower"/>.</summary>
public sealed record BundleFollowerOptions
{
    /// <summary>How long the portal may hold a long poll (0 to 60 seconds); 30 by default.</summary>
    public int WaitSeconds { get; init; } = 30;

    /// <summary>How much longer than <see cref="WaitSeconds"/> a call may take before it counts as failed.</summary>
    public TimeSpan RequestGrace { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The backoff after the first failure; it doubles per failure, with full jitter.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between failed calls, <c>Retry-After</c> included.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The largest bundle accepted, in bytes.</summary>
    public int MaxBundleBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>
    /// The bundle to follow when it is not the one of the node's kind: <c>dr</c> for an edge started in
    /// disaster-recovery mode. Null: the node's own (<see cref="Credentials.NodeIdentity.Consumer"/>).
    /// </summary>
    public string? Consumer { get; init; }
}

/// <summary>Carries the bundle that was just put in force.</summary>
/// <param name="bundle">The bundle.</param>
public sealed class BundleChangedEventArgs(Gatehouse.Trust.Bundles.VerifiedBundle bundle) : EventArgs
{
    /// <summary>The bundle now in force.</summary>
    public Gatehouse.Trust.Bundles.VerifiedBundle Bundle { get; } = bundle;
}
