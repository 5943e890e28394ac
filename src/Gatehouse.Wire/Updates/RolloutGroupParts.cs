namespace Gatehouse.Wire.Updates;

/// <summary>A part a group can be given in a rollout, besides being in its audience.</summary>
public enum RolloutGroupPart
{
    /// <summary>In the internal ring: its devices take the candidate first.</summary>
    Internal,

    /// <summary>Pinned: its devices stay on one version whatever the rollout does.</summary>
    Pinned,

    /// <summary>Held back: its devices keep the baseline until a time.</summary>
    Deferred,
}

/// <summary>A group given two parts in one rollout; a device's version would follow <paramref name="Wins"/> only.</summary>
/// <param name="GroupId">The group.</param>
/// <param name="Wins">The part <see cref="RolloutDescriptor.VersionFor"/> decides by.</param>
/// <param name="Loses">The part that would never apply.</param>
public sealed record RolloutGroupClash(Guid GroupId, RolloutGroupPart Wins, RolloutGroupPart Loses)
{
    /// <summary>Why the two parts do not go together, in words.</summary>
    public string Why => (Wins, Loses) switch
    {
        (RolloutGroupPart.Pinned, RolloutGroupPart.Deferred) => "a pin keeps the group on its version whatever the rollout does, so holding it back would never apply",
        (RolloutGroupPart.Pinned, _) => "a pin keeps the group on its version whatever the rollout does, so it would not go first as the internal ring",
        _ => "a hold keeps the group on the baseline until it ends, so it would not go first as the internal ring",
    };
}

/// <summary>
/// The rule that a group plays one part in a rollout at most, which the portal enforces and the CLI checks before it
/// sends anything. A device's version is decided by its group's pin, else its hold, else the internal ring
/// (<see cref="RolloutDescriptor.VersionFor"/>), so a second part for the same group would be ignored without a word.
/// </summary>
public static class RolloutGroupParts
{
    /// <summary>The first group given two parts, or <see langword="null"/> when each group has one.</summary>
    /// <param name="internalGroups">The internal ring's groups.</param>
    /// <param name="pinned">The pinned groups.</param>
    /// <param name="deferred">The groups held back.</param>
    /// <returns>The clash, with the part that would decide first.</returns>
    public static RolloutGroupClash? FirstClash(IEnumerable<Guid> internalGroups, IEnumerable<Guid> pinned, IEnumerable<Guid> deferred)
    {
        ArgumentNullException.ThrowIfNull(internalGroups);
        ArgumentNullException.ThrowIfNull(pinned);
        ArgumentNullException.ThrowIfNull(deferred);

        // In the order VersionFor decides by, so the part seen first is the one that wins.
        var parts = new Dictionary<Guid, RolloutGroupPart>();
        foreach (var (groups, part) in new[] { (pinned, RolloutGroupPart.Pinned), (deferred, RolloutGroupPart.Deferred), (internalGroups, RolloutGroupPart.Internal) })
        {
            foreach (var group in groups)
            {
                if (!parts.TryAdd(group, part) && parts[group] != part)
                {
                    return new RolloutGroupClash(group, parts[group], part);
                }
            }
        }

        return null;
    }
}
