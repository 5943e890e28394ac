using Gatehouse.Content.Channels;
using Gatehouse.Updates.Content;
using Gatehouse.Updates.Slots;

namespace Gatehouse.Updates.Tests.Content;

public sealed class ContentActivationTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("gatehouse-slots-").FullName;

    [Fact]
    public void July_2024_content_with_one_field_too_many_is_refused_at_load_and_the_last_good_content_stays_in_force()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.StageAndTry(slots, "42", SampleContent.OneFieldTooMany("42"));

        var active = new ContentActivation(slots, new BypassChannel()).Activate();

        Assert.Equal("41", active.Value!.Version);
        Assert.False(active.OnTrial);
        Assert.Contains(active.Refused, r => r.ToString().Contains("declares 5 fields; this build reads 4", StringComparison.Ordinal));
        Assert.True(slots.State.Quarantined.ContainsKey("42"));
        Assert.Equal(2, ((BypassList)active.Value.Value).Entries.Count);
    }

    [Fact]
    public void A_quarantined_version_is_never_staged_again()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.StageAndTry(slots, "42", SampleContent.OneFieldTooMany("42"));
        new ContentActivation(slots, new BypassChannel()).Activate();

        var error = Assert.Throws<UpdateException>(() => SampleContent.Stage(slots, "42", SampleContent.OneFieldTooMany("42")));

        Assert.Contains("quarantined", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_with_a_value_more_than_its_header_declares_is_refused()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.StageAndTry(slots, "42", SampleContent.Bypass("42", null, ["domain", "a.example", "443", "note", "extra"]));

        var active = new ContentActivation(slots, new BypassChannel()).Activate();

        Assert.Equal("41", active.Value!.Version);
        Assert.Contains(active.Refused, r => r.ToString().Contains("records[0] has 5 values; every record has 4", StringComparison.Ordinal));
    }

    [Fact]
    public void A_loader_that_throws_on_unexpected_content_refuses_it_instead_of_taking_the_agent_down()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.StageAndTry(slots, "42", SampleContent.Bypass("42", null, ["domain", "throw", "", ""]));

        var active = new ContentActivation(slots, new ThrowingChannel()).Activate();

        Assert.Equal("41", active.Value!.Version);
        Assert.Contains(active.Refused, r => r.ToString().Contains("IndexOutOfRangeException", StringComparison.Ordinal));
    }

    [Fact]
    public void A_good_trial_loads_and_commits_the_old_version_becoming_the_previous()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.StageAndTry(slots, "42", SampleContent.Bypass("42"));

        var active = new ContentActivation(slots, new BypassChannel()).Activate();
        slots.Commit();

        Assert.Equal("42", active.Value!.Version);
        Assert.True(active.OnTrial);
        Assert.Equal("42", slots.State.Committed!.Version);
        Assert.Equal("41", slots.State.Previous!.Version);
    }

    [Fact]
    public void A_damaged_committed_file_falls_back_to_the_previous_version()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.Commit(slots, "42", SampleContent.Bypass("42"));
        var committed = Path.Combine(directory, slots.State.Committed!.File);
        var bytes = File.ReadAllBytes(committed);
        bytes[^3] ^= 0x20;
        File.WriteAllBytes(committed, bytes);

        var active = new ContentActivation(new SlotStore(directory), new BypassChannel()).Activate();

        Assert.Equal("41", active.Value!.Version);
        Assert.Contains(active.Refused, r => r.ToString().Contains("committed version 42 is missing or damaged", StringComparison.Ordinal));
    }

    [Fact]
    public void A_damaged_trial_file_is_refused_and_quarantined()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.StageAndTry(slots, "42", SampleContent.Bypass("42"));
        File.WriteAllText(Path.Combine(directory, slots.State.Trial!.Entry.File), "garbage");

        var active = new ContentActivation(slots, new BypassChannel()).Activate();

        Assert.Equal("41", active.Value!.Version);
        Assert.True(slots.State.Quarantined.ContainsKey("42"));
    }

    [Fact]
    public void A_damaged_state_file_falls_back_to_the_state_before_it()
    {
        var slots = new SlotStore(directory);
        SampleContent.Commit(slots, "41", SampleContent.Bypass("41"));
        SampleContent.Stage(slots, "42", SampleContent.Bypass("42"));
        File.WriteAllText(Path.Combine(directory, "state.json"), "{ torn");

        var reopened = new SlotStore(directory);

        Assert.Equal("41", reopened.State.Committed!.Version);
        Assert.Equal("41", new ContentActivation(reopened, new BypassChannel()).Activate().Value!.Version);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private sealed class ThrowingChannel : ContentChannel
    {
        public override string Name => "bypass";

        public override int SchemaVersion => 1;

        public override IReadOnlyList<string> Fields { get; } = SampleContent.Fields;

        protected override object LoadRecords(IReadOnlyList<IReadOnlyList<string>> records)
        {
            // Code that reads a field past the end of what it supplied, as the July 2024 interpreter did.
            var supplied = new string[20];
            return records[0][1] == "throw" ? supplied[20] : supplied;
        }
    }
}
