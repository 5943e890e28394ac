using System.Diagnostics;
using System.Net.Http.Json;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// Private access end to end as users run it: the agent (transparent) in the endpoint namespace, the edge here,
/// real <c>gatehouse-connector</c> processes in their own namespace, and the apps in a private namespace that
/// only the connectors reach (<see cref="PrivateNetwork"/>).
/// </summary>
[Collection(NamespaceCollection.Name)]
public sealed class PrivateAccessTests
{
    private static readonly PolicyRuleSpec AdaMayUseBoth = new()
    {
        Name = "ada-corp",
        Action = PolicyActions.Allow,
        Criteria = new PolicyCriteria { Users = ["ada@example.test"], AppSegments = ["corp-web", "corp-echo"] },
    };

    [NamespaceFact]
    public async Task Curl_and_raw_tcp_reach_the_private_apps_through_agent_edge_and_connector_and_the_apps_see_only_the_connector()
    {
        await using var topology = await EndpointTopology.StartAsync();
        await using var network = await PrivateNetwork.StartAsync(topology);
        await network.PutAccessPolicyAsync(AdaMayUseBoth);

        // The endpoint has no way to the private network by itself.
        var direct = await topology.CurlAsync("--max-time", "3", $"http://{network.AppAddress}/");
        Assert.NotEqual(0, direct.Code);

        await network.StartConnectorAsync("connector-1");
        await WaitForLinksAsync(topology, network, 1);
        topology.StartService();
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.DigAsync(PrivateNetwork.WebName)).Output.Contains("100.64.", StringComparison.Ordinal), "the private app's name to resolve to 100.64.x.y");

        var web = await topology.CurlAsync($"http://{PrivateNetwork.WebName}/");
        Assert.True(web.Code == 0, $"{web.Error}\n{network.ConnectorLog}");
        Assert.Equal($"origin saw {network.ConnectorAddress} ask for {PrivateNetwork.WebName} over http\n", web.Output);

        // The same app through the agent's local proxy (the agent writes the request head itself before relaying).
        var proxied = await topology.CurlAsync("--max-time", "10", "-x", "http://127.0.0.1:9000", $"http://{PrivateNetwork.WebName}/");
        Assert.True(proxied.Code == 0, $"{proxied.Error}\n{network.ConnectorLog}");
        Assert.Equal($"origin saw {network.ConnectorAddress} ask for {PrivateNetwork.WebName} over http\n", proxied.Output);

        var echo = await topology.Endpoint.ExecAsync(TimeSpan.FromSeconds(30), "bash", "-c",
            $"exec 3<>/dev/tcp/{PrivateNetwork.EchoName}/{PrivateNetwork.EchoPort} && printf 'hello private' >&3 && timeout 10 head -c 13 <&3");
        Assert.True(echo.Code == 0, $"{echo.Error}\n{network.ConnectorLog}");
        Assert.Equal("hello private", echo.Output);
        Assert.All(network.EchoPeers, peer => Assert.Equal(network.ConnectorAddress, peer.ToString()));

        // The agent offers, so the edge relays: one TLS session from the agent to the connector, the edge copying it.
        var logs = Path.Combine(topology.Agent.StateDirectory, "..", "edge-1-logs", "transactions.jsonl");
        await AgentFixture.WaitUntilAsync(
            () => Task.FromResult(File.Exists(logs) && File.ReadLines(logs).Count(l => l.Contains("through connector connector-1, relayed end to end", StringComparison.Ordinal)) >= 3),
            "the edge to log the three flows as relayed end to end");
    }

    [NamespaceFact]
    public async Task A_user_outside_the_allowed_groups_is_refused_and_the_edge_logs_why()
    {
        await using var topology = await EndpointTopology.StartAsync();
        await using var network = await PrivateNetwork.StartAsync(topology);
        (await topology.Agent.Admin.PostAsJsonAsync("groups", new CreateGroupRequest("engineering"), TestPortal.Json)).EnsureSuccessStatusCode();
        await network.PutAccessPolicyAsync(new PolicyRuleSpec { Name = "engineering-web", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Groups = ["engineering"], AppSegments = ["corp-web"] } });
        await network.StartConnectorAsync("connector-1");
        await WaitForLinksAsync(topology, network, 1);
        topology.StartService();
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.DigAsync(PrivateNetwork.WebName)).Output.Contains("100.64.", StringComparison.Ordinal), "the private app's name to resolve");

        var refused = await topology.CurlAsync("-i", $"http://{PrivateNetwork.WebName}/");
        Assert.True(refused.Output.Length > 0, $"curl: {refused.Error}\n{topology.ServiceLog}\n{network.ConnectorLog}");

        Assert.Contains("HTTP/1.1 403", refused.Output, StringComparison.Ordinal);
        const string Why = "no access rule allows ada@example.test to reach app segment corp-web";
        Assert.Contains(Why, refused.Output, StringComparison.Ordinal);
        Assert.Empty(network.Web.Seen);
        var logs = Path.Combine(topology.Agent.StateDirectory, "..", "edge-1-logs", "transactions.jsonl");
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(File.Exists(logs) && File.ReadAllText(logs).Contains(Why, StringComparison.Ordinal)), "the edge to log the refusal with its reason");
    }

    [NamespaceFact]
    public async Task With_two_connectors_killing_one_keeps_the_app_reachable_for_new_flows_within_two_seconds()
    {
        await using var topology = await EndpointTopology.StartAsync();
        await using var network = await PrivateNetwork.StartAsync(topology);
        await network.PutAccessPolicyAsync(AdaMayUseBoth);
        await network.StartConnectorAsync("connector-1");
        await network.StartConnectorAsync("connector-2");
        await WaitForLinksAsync(topology, network, 2);
        topology.StartService();
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.CurlAsync($"http://{PrivateNetwork.WebName}/")).Code == 0, "the private app to answer", () => network.ConnectorLog);

        network.KillConnector("connector-1");
        var killed = Stopwatch.StartNew();
        (int Code, string Output, string Error) web;
        do
        {
            web = await topology.CurlAsync("--max-time", "2", $"http://{PrivateNetwork.WebName}/");
        }
        while (web.Code != 0 && killed.Elapsed < TimeSpan.FromSeconds(10));

        Assert.True(web.Code == 0, $"{web.Error}\n{network.ConnectorLog}");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(2), $"the app answered again {killed.Elapsed.TotalMilliseconds:0} ms after the kill");
        Assert.Equal($"origin saw {network.ConnectorAddress} ask for {PrivateNetwork.WebName} over http\n", web.Output);
    }

    private static Task WaitForLinksAsync(EndpointTopology topology, PrivateNetwork network, int count) =>
        AgentFixture.WaitUntilAsync(
            () => Task.FromResult(topology.Agent.Edge!.DataPath.Connectors.Live.Count == count),
            $"{count} connector link(s) at the edge",
            () => network.ConnectorLog);
}
