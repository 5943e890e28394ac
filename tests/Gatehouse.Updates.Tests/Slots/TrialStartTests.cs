using Gatehouse.Updates.Slots;
using Gatehouse.Updates.Tests.Content;

namespace Gatehouse.Updates.Tests.Slots;

/// <summary>What counts against a trial: runs that crash or are killed, not runs that stop cleanly.</summary>
public sealed class TrialStartTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("gatehouse-trial-").FullName;

    [Fact]
    public void Clean_stops_give_their_start_back_and_crashes_still_quarantine_after_three()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.StageAndTry(slots, "42", SampleContent.Bypass("42"));

        for (var reboot = 0; reboot < 5; reboot++)
        {
            Assert.NotNull(slots.StartTrial());
            slots.EndTrialRunCleanly("42");
        }

        Assert.Equal(0, slots.State.Trial!.Starts);
        for (var crash = 1; crash <= SlotStore.DefaultMaxStarts; crash++)
        {
            Assert.Equal(crash, slots.StartTrial()!.Starts);
        }

        Assert.Null(slots.StartTrial());
        Assert.Equal("3 trial runs ended in a crash or a kill", new SlotStore(directory).State.Quarantined["42"]);
    }

    [Fact]
    public void A_clean_stop_of_another_version_gives_nothing_back()
    {
        var slots = new SlotStore(directory);
        SampleContent.StageAndTry(slots, "42", SampleContent.Bypass("42"));
        slots.StartTrial();

        slots.EndTrialRunCleanly("41");

        Assert.Equal(1, slots.State.Trial!.Starts);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
