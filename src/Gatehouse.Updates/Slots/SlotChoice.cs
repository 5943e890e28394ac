namespace Gatehouse.Updates.Slots;

/// <summary>A version passed over on the way to the one in force.</summary>
/// <param name="Slot">trial, committed or previous.</param>
/// <param name="Version">The version.</param>
/// <param name="Reason">Why.</param>
public sealed record RefusedSlot(string Slot, string Version, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Slot} version {Version} {Reason}";
}

/// <summary>What a start runs: the opened version (content loaded, a build's executable), whether it is the trial, and what was passed over.</summary>
/// <typeparam name="T">What opening a slot gives.</typeparam>
/// <param name="Value">The opened version, or <see langword="null"/> when none opens.</param>
/// <param name="Entry">Its slot entry.</param>
/// <param name="OnTrial">Whether it is the version on trial.</param>
/// <param name="Refused">What was passed over, for the log and the portal.</param>
public sealed record SlotChoice<T>(T? Value, SlotEntry? Entry, bool OnTrial, IReadOnlyList<RefusedSlot> Refused)
    where T : class;
