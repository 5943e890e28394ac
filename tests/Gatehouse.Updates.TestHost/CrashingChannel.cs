using Gatehouse.Content.Channels;

namespace Gatehouse.Updates.TestHost;

/// <summary>
/// A channel like <c>bypass</c> whose loader takes the whole process down on a record whose
/// value is <c>crash</c>: the kind of failure no exception handler catches.
/// </summary>
public sealed class CrashingChannel : ContentChannel
{
    public override string Name => "bypass";

    public override int SchemaVersion => 1;

    public override IReadOnlyList<string> Fields { get; } = ["kind", "value", "ports", "note"];

    protected override object LoadRecords(IReadOnlyList<IReadOnlyList<string>> records)
    {
        foreach (var record in records)
        {
            if (record[1] == "crash")
            {
                Environment.FailFast("the test content crashed the loader");
            }
        }

        return records.Count;
    }
}
