using Gatehouse.Content;
using Gatehouse.Content.Channels;
using Gatehouse.Content.Packages;
using Gatehouse.Updates.Slots;

namespace Gatehouse.Updates.Content;

/// <summary>
/// Decides which version of one content channel the agent runs, at every start: the slots'
/// choice (<see cref="SlotStore.Choose{T}"/>: trial with starts left, committed, previous), each
/// opened with the channel's loader. Content the loader refuses, or that makes it throw, is
/// passed over; the last good content stays in force.
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
    /// <returns>The content in force (its value is null when no version loads), and what was refused on the way.</returns>
    public SlotChoice<LoadedContent> Activate() => slots.Choose(Load);

    private (LoadedContent? Value, string? Refusal) Load(SlotEntry entry, byte[] bytes)
    {
        try
        {
            return (channel.Load(ContentPackage.Parse(bytes)), null);
        }
        catch (ContentException e)
        {
            return (null, $"refused: {e.Message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A loader that throws on content it did not expect is the July 2024 failure: refuse the content, keep running.
            return (null, $"refused: the loader failed on it ({e.GetType().Name}: {e.Message})");
        }
    }
}
