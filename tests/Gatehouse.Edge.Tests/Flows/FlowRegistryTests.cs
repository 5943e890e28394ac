using Gatehouse.Flows;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Flows;

public sealed class FlowRegistryTests
{
    [Fact]
    public async Task An_idle_flow_is_counted_once_however_many_sweeps_see_it_before_it_ends()
    {
        await using var registry = new FlowRegistry(TimeSpan.FromMilliseconds(50));
        using var flow = registry.Open();

        var cut = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = flow.Cancellation.Register(() => cut.TrySetResult());
        await cut.Task.DefaultTimeout();

        // The relay has not ended the flow yet (it is still open), so later sweeps see it idle again.
        await Task.Delay(500);
        Assert.Equal(1, registry.IdleClosed);
        Assert.Equal(1, registry.Count);
    }
}
