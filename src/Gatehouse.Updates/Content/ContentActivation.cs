using Gatehouse.Content;
using Gatehouse.Content.Channels;
using Gatehouse.Content.Packages;
using Gatehouse.Updates.Slots;

namespace Gatehouse.Updates.Content;

/// <summary>A version that was refused on the way to the one in force.</summary>
/// <param name="Slot">trial, committed or previous.</param>
/// <param name="Version">The version.</param>
/// <param name="Reason">Why.</param>
public sealed record RefusedContent(string Slot, string Version, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Slot} version {Version} {Reason}";
}

/// <summary>Which content is in force, and why.</summary>
/// <param name="Content">The loaded content, or <see langword="null"/> when no version loads.</param>
/// <param name="OnTrial">Whether it is the version on trial.</param>
/// <param name="Refused">What was refused on the way (a trial that failed, a damaged slot), for the log and the portal.</param>
public sealed record ActiveContent(LoadedContent? Content, bool OnTrial, IReadOnlyList<RefusedContent> Refused);

/// <summary>
/// Decides which version of one content channel the agent runs, at every start:
/// <code>
///   trial with starts left   count the start (persisted), read and verify, load
///                            refused or damaged -> quarantine, go on below
///   trial out of starts      quarantine without reading it (a load that crashed must not run again)
///   committed                read and verify, load; damaged or refused -> previous
///   previous                 read and verify, load
/// </code>
/// The revert never parses the bad content: a trial that crashed the process is recognised by
/// its start count alone.
/// </summary>
public sealed class ContentActivation
{
    private readonly SlotStore slots;
    private readonly ContentChannel channel;

    /// <summary>Creates the activation of one channel.</summary>
    /// <param name="slots">The channel's slots.</param>
    /// <param name="channel">The channel's loader, as built into this agent.</param>
    public ContentActivation(SlotStore slots, ContentChannel channel)
    {
        ArgumentNullException.ThrowIfNull(slots);
        ArgumentNullException.ThrowIfNull(channel);
        this.slots = slots;
        this.channel = channel;
    }

    /// <summary>Loads the version that should be in force now.</summary>
    /// <returns>The content in force.</returns>
    public ActiveContent Activate()
    {
        var refused = new List<RefusedContent>();
        var pending = slots.State.Trial;
        if (slots.StartTrial() is { } trial)
        {
            var loaded = TryLoad(trial.Entry, "trial", refused);
            if (loaded is not null)
            {
                return new ActiveContent(loaded, OnTrial: true, refused);
            }

            slots.Revert(refused[^1].Reason);
        }
        else if (pending is not null)
        {
            refused.Add(new RefusedContent("trial", pending.Entry.Version, $"quarantined: {slots.State.Quarantined.GetValueOrDefault(pending.Entry.Version, "failed its trial")}"));
        }

        foreach (var (entry, name) in new[] { (slots.State.Committed, "committed"), (slots.State.Previous, "previous") })
        {
            if (entry is not null && TryLoad(entry, name, refused) is { } content)
            {
                return new ActiveContent(content, OnTrial: false, refused);
            }
        }

        return new ActiveContent(null, OnTrial: false, refused);
    }

    private LoadedContent? TryLoad(SlotEntry entry, string slot, List<RefusedContent> refused)
    {
        var bytes = slots.ReadVerified(entry);
        if (bytes is null)
        {
            refused.Add(new RefusedContent(slot, entry.Version, "is missing or damaged (SHA-256 differs)"));
            return null;
        }

        try
        {
            return channel.Load(ContentPackage.Parse(bytes));
        }
        catch (ContentException e)
        {
            refused.Add(new RefusedContent(slot, entry.Version, $"refused: {e.Message}"));
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A loader that throws on content it did not expect is the July 2024 failure: refuse the content, keep running.
            refused.Add(new RefusedContent(slot, entry.Version, $"refused: the loader failed on it ({e.GetType().Name}: {e.Message})"));
            return null;
        }
    }
}
