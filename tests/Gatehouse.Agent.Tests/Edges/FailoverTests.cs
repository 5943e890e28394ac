using System.Diagnostics;
using Gatehouse.Wire.Agent;

namespace Gatehouse.Agent.Tests.Edges;

/// <summary>Two edges of one tenant: flows go to the primary, and to the other one when the primary dies.</summary>
public sealed class FailoverTests
{
    [Fact]
    public async Task When_the_primary_edge_dies_new_flows_go_to_the_other_within_two_seconds()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.StartSecondEdgeAsync();

        // Fail-closed: a flow that no edge carries is refused, so it cannot pass by going direct.
        await fixture.PostAppProfileAsync("closed");
        await fixture.EnrollDeviceAsync();
        await using var agent = fixture.StartDataPlane();
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.State == AgentStates.Connected && agent.Status.FailMode == "closed" && agent.Edges.Count(e => e.Up) == 2), "both edges to answer probes");
        var portalHealth = new Uri(fixture.Portal.BaseAddress, "/healthz").ToString();
        var before = await AgentFixture.CurlAsync("-x", $"http://{agent.ProxyAddress}", "--cacert", fixture.PortalCaFile, portalHealth);
        Assert.True(before.Code == 0, before.Error);
        var primary = agent.Status.Edge!;

        var dead = primary.StartsWith("edge-1 ", StringComparison.Ordinal) ? "edge-1" : "edge-2";
        var survivor = dead == "edge-1" ? "edge-2" : "edge-1";
        await fixture.StopEdgeAsync(dead);
        var killed = Stopwatch.StartNew();
        var after = await AgentFixture.CurlAsync("-x", $"http://{agent.ProxyAddress}", "--cacert", fixture.PortalCaFile, portalHealth);
        var firstFlowAfter = killed.Elapsed;

        Assert.True(after.Code == 0, after.Error);
        Assert.True(firstFlowAfter < TimeSpan.FromSeconds(2), $"the first flow after the primary died took {firstFlowAfter.TotalMilliseconds:0} ms");
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(agent.Status.Edge?.StartsWith(survivor + " ", StringComparison.Ordinal) == true), "the status to name the surviving edge");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(3), $"the status named the new primary after {killed.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(AgentStates.Connected, agent.Status.State);
    }
}
