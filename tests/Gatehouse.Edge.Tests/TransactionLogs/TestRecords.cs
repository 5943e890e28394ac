using Gatehouse.Wire.Logs;

namespace Gatehouse.Edge.Tests.TransactionLogs;

/// <summary>Records as the data path writes them, numbered so tests can find each one.</summary>
internal static class TestRecords
{
    public static readonly DateTimeOffset Start = new(2026, 11, 22, 10, 41, 3, 123, TimeSpan.Zero);

    public static TransactionLogRecord Flow(int n, string action = TransactionActions.Allow) => new(
        Start.AddMilliseconds(n),
        "7b0c3a52-5c55-4cf6-9a35-0f1b8c1d2e3f",
        "edge-1",
        TransactionKinds.Flow,
        TransactionListeners.Tunnel,
        action,
        "192.0.2.10:51234",
        $"site{n}.example",
        443,
        UserEmail: "alice@example.com",
        DeviceId: "dev-1",
        Rule: action == TransactionActions.Block ? "no-gambling" : null,
        ReferenceId: $"ref-{n}",
        BytesUp: n,
        BytesDown: 2L * n,
        DurationMs: 5);

    public static IEnumerable<TransactionLogRecord> Flows(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return Flow(i);
        }
    }
}

/// <summary>A clock whose "now" the test sets; timers run on the real clock.</summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Set(DateTimeOffset now) => _now = now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Bounded polling for conditions that background sinks make true.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + Gatehouse.Testing.TestTimeouts.Default;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure());
            await Task.Delay(10);
        }
    }
}
