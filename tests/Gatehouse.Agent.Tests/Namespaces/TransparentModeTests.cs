using System.Diagnostics;
using System.Net.Http.Json;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Api;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// The agent as root runs it, in the endpoint namespace of <see cref="EndpointTopology"/>: the service
/// and its data plane processes, the nftables table, the local resolver, with real curl and dig.
/// </summary>
[Collection(NamespaceCollection.Name)]
public sealed class TransparentModeTests
{
    [NamespaceFact]
    public async Task Transparent_mode_carries_http_and_https_through_the_edge_and_blocks_with_a_page_or_a_reset()
    {
        await using var topology = await EndpointTopology.StartAsync();
        topology.StartService();
        await topology.WaitForTransparentAsync();

        // No proxy settings: the nftables table brings the flows to the agent; the origin sees the edge.
        var http = await topology.CurlAsync("http://www.agent.test/");
        Assert.True(http.Code == 0, http.Error);
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.agent.test over http\n", http.Output);
        var https = await topology.CurlAsync("-k", "https://www.agent.test/");
        Assert.True(https.Code == 0, https.Error);
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.agent.test over https\n", https.Output);
        Assert.Contains("www.agent.test", topology.EdgeResolved);

        var blockedPage = await topology.CurlAsync("-i", $"http://{AgentFixture.BlockedHost}/");
        Assert.Contains("HTTP/1.1 403", blockedPage.Output, StringComparison.Ordinal);
        Assert.Contains("Gatehouse-Rule: block-casino", blockedPage.Output, StringComparison.Ordinal);
        var blockedTls = await topology.CurlAsync("-k", $"https://{AgentFixture.BlockedHost}/");
        Assert.NotEqual(0, blockedTls.Code);
        Assert.Contains("reset", blockedTls.Error, StringComparison.OrdinalIgnoreCase);

        // The local proxy works alongside, for applications configured to use it.
        var proxied = await topology.CurlAsync("-x", "http://127.0.0.1:9000", "http://www.agent.test/");
        Assert.True(proxied.Code == 0, proxied.Error);
        Assert.Contains($"origin saw {topology.EdgeInternetAddress}", proxied.Output, StringComparison.Ordinal);
        var proxiedTls = await topology.CurlAsync("-k", "-x", "http://127.0.0.1:9000", "https://www.agent.test/");
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.agent.test over https\n", proxiedTls.Output);
        var proxiedBlock = await topology.CurlAsync("-i", "-x", "http://127.0.0.1:9000", $"http://{AgentFixture.BlockedHost}/");
        Assert.Contains("Gatehouse-Rule: block-casino", proxiedBlock.Output, StringComparison.Ordinal);

        var status = await topology.StatusAsync();
        Assert.Equal(AgentModes.Transparent, status!.Mode);
        Assert.Equal("100.64.0.0/16", status.SyntheticRange);
        Assert.True(status.FlowsTotal >= 4 && status.FlowsRefused >= 3, $"flows: {status.FlowsTotal}, refused: {status.FlowsRefused}");
        Assert.True(status.BytesDown > 0 && status.BytesUp > 0, $"bytes: {status.BytesUp} up, {status.BytesDown} down");
    }

    [NamespaceFact]
    public async Task Ipv6_connections_are_intercepted_too()
    {
        await using var topology = await EndpointTopology.StartAsync();
        var direct = await topology.CurlAsync("-g", "-H", "Host: www.agent.test", $"http://[{topology.OriginIpv6}]/");
        Assert.StartsWith("origin saw fd00:67:", direct.Output, StringComparison.Ordinal); // the endpoint's own IPv6 address
        topology.StartService();
        await topology.WaitForTransparentAsync();

        var http = await topology.CurlAsync("-g", "-H", "Host: www.agent.test", $"http://[{topology.OriginIpv6}]/");
        var https = await topology.CurlAsync("-g", "-k", "--connect-to", $"www.agent.test:443:[{topology.OriginIpv6}]:443", "https://www.agent.test/");

        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.agent.test over http\n", http.Output);
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.agent.test over https\n", https.Output);
    }

    [NamespaceFact]
    public async Task A_private_app_name_resolves_to_a_synthetic_address_and_its_flow_reaches_the_edge_as_the_name()
    {
        await using var topology = await EndpointTopology.StartAsync();
        await using var connector = await AddPrivateAppAsync(topology);
        topology.StartService();
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.DigAsync("wiki.corp.agent.test")).Output.Contains("100.64.", StringComparison.Ordinal), "the private app's name to resolve to 100.64.x.y");

        var a = await topology.DigAsync("wiki.corp.agent.test");
        Assert.Contains("status: NOERROR", a.Output, StringComparison.Ordinal);
        var address = a.Output.Split('\n').Single(l => l.StartsWith("wiki.corp.agent.test.", StringComparison.Ordinal) && l.Contains("\tA\t", StringComparison.Ordinal)).Split('\t').Last();
        Assert.StartsWith("100.64.", address, StringComparison.Ordinal);
        Assert.Contains("\t" + address, (await topology.DigAsync("wiki.corp.agent.test")).Output, StringComparison.Ordinal); // the same address again

        // AAAA: NODATA (the name exists, no IPv6 address), never NXDOMAIN.
        var aaaa = await topology.DigAsync("wiki.corp.agent.test", "AAAA");
        Assert.Contains("status: NOERROR", aaaa.Output, StringComparison.Ordinal);
        Assert.Contains("ANSWER: 0", aaaa.Output, StringComparison.Ordinal);

        // Other names still come from the system's name server.
        var publicName = await topology.DigAsync("www.agent.test");
        Assert.Contains(topology.Origin.Address.ToString(), publicName.Output, StringComparison.Ordinal);

        // The flow to the synthetic address goes to the edge as the name, which the edge resolves.
        var wiki = await topology.CurlAsync("--connect-to", $"::{address}:", "--header", "Host: wiki.corp.agent.test", $"http://{address}/");
        Assert.True(wiki.Code == 0, wiki.Error);
        Assert.Contains($"origin saw {topology.EdgeInternetAddress}", wiki.Output, StringComparison.Ordinal);
        var https = await topology.CurlAsync("-k", "https://wiki.corp.agent.test/");
        Assert.True(https.Code == 0, https.Error);
        Assert.Contains("wiki.corp.agent.test", topology.ConnectorResolved);
        Assert.DoesNotContain(address, topology.ConnectorResolved);
        Assert.DoesNotContain("wiki.corp.agent.test", topology.EdgeResolved);
    }

    [NamespaceFact]
    public async Task With_100_64_in_use_on_an_interface_the_agent_hands_out_100_65()
    {
        await using var topology = await EndpointTopology.StartAsync(endpoint =>
        {
            // A veth pair: the dummy driver may not be loaded (containers, minimal kernels).
            endpoint.Ip("link", "add", "busy0", "type", "veth", "peer", "name", "busy1");
            endpoint.Ip("addr", "add", "100.64.0.1/16", "dev", "busy0");
            endpoint.Ip("link", "set", "busy0", "up");
            endpoint.Ip("link", "set", "busy1", "up");
        });
        await using var connector = await AddPrivateAppAsync(topology);
        topology.StartService();
        await topology.WaitForTransparentAsync();

        Assert.Equal("100.65.0.0/16", (await topology.StatusAsync())!.SyntheticRange);
        await AgentFixture.WaitUntilAsync(async () => (await topology.DigAsync("wiki.corp.agent.test")).Output.Contains("\t100.65.", StringComparison.Ordinal), "the private app's name to resolve to 100.65.x.y");
    }

    [NamespaceFact]
    public async Task When_the_host_starts_using_100_64_the_agent_moves_to_100_65()
    {
        await using var topology = await EndpointTopology.StartAsync();
        await using var connector = await AddPrivateAppAsync(topology);
        topology.StartService();
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.DigAsync("wiki.corp.agent.test")).Output.Contains("\t100.64.", StringComparison.Ordinal), "the private app's name to resolve to 100.64.x.y");

        // The endpoint joins a network in 100.64.0.0/16 (a carrier's CGNAT, another overlay).
        topology.Endpoint.Ip("link", "add", "cgnat0", "type", "veth", "peer", "name", "cgnat1");
        topology.Endpoint.Ip("addr", "add", "100.64.7.1/16", "dev", "cgnat0");
        topology.Endpoint.Ip("link", "set", "cgnat0", "up");
        topology.Endpoint.Ip("link", "set", "cgnat1", "up");

        await AgentFixture.WaitUntilAsync(async () => (await topology.StatusAsync())?.SyntheticRange == "100.65.0.0/16", "the agent to move to 100.65.0.0/16", () => topology.StatusAsync().GetAwaiter().GetResult());
        var moved = await topology.DigAsync("wiki.corp.agent.test");
        Assert.Contains("\t100.65.", moved.Output, StringComparison.Ordinal);
        var wiki = await topology.CurlAsync("-k", "https://wiki.corp.agent.test/");
        Assert.Contains($"origin saw {topology.EdgeInternetAddress}", wiki.Output, StringComparison.Ordinal);
    }

    [NamespaceFact]
    public async Task Killing_the_data_plane_leaves_no_table_until_the_watchdog_has_restarted_it()
    {
        await using var topology = await EndpointTopology.StartAsync();
        topology.StartService(restartDelay: TimeSpan.FromSeconds(4));
        await topology.WaitForTransparentAsync();
        var first = topology.DataPlanePid() ?? throw new InvalidOperationException("no data plane process");

        using (var kill = Process.Start("kill", ["-KILL", first.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        // While the watchdog waits to restart, the dead data plane's table is gone: traffic is not sent to a dead port.
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(!topology.NftTableExists()), "the watchdog to remove the dead data plane's table");
        Assert.True(topology.DataPlanePid() is null, "the data plane was restarted before its table was removed");
        var meanwhile = await topology.CurlAsync("http://www.agent.test/");
        Assert.Equal($"origin saw {topology.EndpointInternetAddress} ask for www.agent.test over http\n", meanwhile.Output);

        await AgentFixture.WaitUntilAsync(() => Task.FromResult(topology.DataPlanePid() is { } pid && pid != first), "the watchdog to restart the data plane");
        await topology.WaitForTransparentAsync();
        var after = await topology.CurlAsync("http://www.agent.test/");
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.agent.test over http\n", after.Output);

        // A clean stop removes the table too: the machine's traffic goes its own way again.
        await topology.StopServiceAsync();
        Assert.False(topology.NftTableExists());
        Assert.Null(topology.DataPlanePid());
        var stopped = await topology.CurlAsync("http://www.agent.test/");
        Assert.Equal($"origin saw {topology.EndpointInternetAddress} ask for www.agent.test over http\n", stopped.Output);
    }

    [NamespaceFact]
    public async Task Killing_the_primary_edge_moves_new_flows_to_the_second_within_two_seconds()
    {
        await using var topology = await EndpointTopology.StartAsync();
        await topology.Agent.PostAppProfileAsync(FailModes.Closed);
        var version = (await topology.StatusAsync())?.BundleVersion ?? 0;
        await topology.Agent.StartSecondEdgeAsync();
        topology.StartService();
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => await topology.StatusAsync() is { FailMode: FailModes.Closed } status && status.BundleVersion > version, "the config with both edges");
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // both edges probed (every second)
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.agent.test over http\n", (await topology.CurlAsync("http://www.agent.test/")).Output);

        var primary = (await topology.StatusAsync())!.Edge!;
        var dead = primary.StartsWith("edge-1 ", StringComparison.Ordinal) ? "edge-1" : "edge-2";
        await topology.Agent.StopEdgeAsync(dead);
        var killed = Stopwatch.StartNew();
        var after = await topology.CurlAsync("http://www.agent.test/");
        var firstFlowAfter = killed.Elapsed;

        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.agent.test over http\n", after.Output);
        Assert.True(firstFlowAfter < TimeSpan.FromSeconds(2), $"the first flow after the primary died took {firstFlowAfter.TotalMilliseconds:0} ms");
        await AgentFixture.WaitUntilAsync(async () => (await topology.StatusAsync())?.Edge?.StartsWith(dead + " ", StringComparison.Ordinal) == false, "the status to name the surviving edge");
    }

    [NamespaceFact]
    public async Task Fail_closed_drops_flows_when_no_edge_answers_and_fail_open_sends_them_direct()
    {
        await using var topology = await EndpointTopology.StartAsync();
        await topology.Agent.PostAppProfileAsync(FailModes.Closed);
        topology.StartService();
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.StatusAsync())?.FailMode == FailModes.Closed, "the fail-closed profile to arrive");

        await topology.Agent.StopEdgeAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.StatusAsync())?.State == AgentStates.EdgesUnreachable, "the agent to see no edge");
        var closed = await topology.CurlAsync("http://www.agent.test/");
        Assert.NotEqual(0, closed.Code);
        Assert.DoesNotContain("origin saw", closed.Output, StringComparison.Ordinal);

        var profile = (await topology.Agent.Admin.GetFromJsonAsync<Page<AppProfileDto>>("app-profiles", TestPortal.Json))!.Items.Single();
        (await topology.Agent.Admin.PutAsJsonAsync($"app-profiles/{profile.Id}", new AppProfileRequest("everyone", FailMode: FailModes.Open), TestPortal.Json)).EnsureSuccessStatusCode();
        await AgentFixture.WaitUntilAsync(async () => (await topology.StatusAsync())?.FailMode == FailModes.Open, "the fail-open profile to arrive");
        var open = await topology.CurlAsync("http://www.agent.test/");
        Assert.Equal($"origin saw {topology.EndpointInternetAddress} ask for www.agent.test over http\n", open.Output);
    }

    [NamespaceFact]
    public async Task A_captive_portal_seen_directly_while_no_edge_answers_pauses_interception_even_when_failing_closed()
    {
        await using var topology = await EndpointTopology.StartAsync();
        (await topology.Agent.Admin.PostAsJsonAsync("app-profiles", new AppProfileRequest("everyone", FailMode: FailModes.Closed, CaptivePortalPauseMinutes: 5), TestPortal.Json)).EnsureSuccessStatusCode();

        // The probe URL answers 200 with a page, as a hotel's sign-in portal does, not 204. The agent
        // must ask it directly: through its own redirect it would only meet its own fail-closed reset.
        topology.StartService(captivePortalProbe: $"http://{topology.Origin.Address}/generate_204");
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.StatusAsync())?.FailMode == FailModes.Closed, "the fail-closed profile to arrive");
        await topology.Agent.StopEdgeAsync();

        await AgentFixture.WaitUntilAsync(async () => await topology.StatusAsync() is { State: AgentStates.CaptivePortal, Mode: AgentModes.LocalProxy } && !topology.NftTableExists(), "the agent to stand aside for the captive portal", () => $"{topology.StatusAsync().GetAwaiter().GetResult()}\n{topology.ServiceLog}");
        var signIn = await topology.CurlAsync("http://www.agent.test/");
        Assert.Equal($"origin saw {topology.EndpointInternetAddress} ask for www.agent.test over http\n", signIn.Output);
    }

    [NamespaceFact]
    public async Task On_a_trusted_network_with_forwarding_none_the_table_is_removed_and_traffic_goes_direct()
    {
        await using var topology = await EndpointTopology.StartAsync();
        topology.StartService();
        await topology.WaitForTransparentAsync();

        var office = await (await topology.Agent.Admin.PostAsJsonAsync("forwarding-profiles", new ForwardingProfileRequest("office", ForwardingActions.None, ForwardingActions.Tunnel, ForwardingActions.Tunnel), TestPortal.Json)).Content.ReadFromJsonAsync<ForwardingProfileDto>(TestPortal.Json);
        // A beacon only the endpoint reaches: the agent must ask it directly, not through the edge it redirects to.
        var trusted = new TrustedNetworkCriteria(DnsServers: [topology.Origin.Address.ToString()], Beacon: new TlsBeaconCheck($"{topology.InternetSideAddress}:443", topology.Origin.CertificateSha256));
        (await topology.Agent.Admin.PostAsJsonAsync("app-profiles", new AppProfileRequest("everyone", FailMode: FailModes.Closed, ForwardingProfileId: office!.Id, TrustedNetwork: trusted), TestPortal.Json)).EnsureSuccessStatusCode();

        await AgentFixture.WaitUntilAsync(async () => await topology.StatusAsync() is { Network: "trusted", Mode: AgentModes.LocalProxy } && !topology.NftTableExists(), "the agent to stand aside on the trusted network", () => $"{topology.StatusAsync().GetAwaiter().GetResult()}\n{topology.ServiceLog}");
        var direct = await topology.CurlAsync("http://www.agent.test/");
        Assert.Equal($"origin saw {topology.EndpointInternetAddress} ask for www.agent.test over http\n", direct.Output);
    }

    [NamespaceFact]
    public async Task When_a_vpn_comes_up_the_forwarding_profile_for_vpn_networks_applies()
    {
        await using var topology = await EndpointTopology.StartAsync();
        var split = await (await topology.Agent.Admin.PostAsJsonAsync("forwarding-profiles", new ForwardingProfileRequest("split", ForwardingActions.Tunnel, ForwardingActions.Tunnel, ForwardingActions.None), TestPortal.Json)).Content.ReadFromJsonAsync<ForwardingProfileDto>(TestPortal.Json);
        (await topology.Agent.Admin.PostAsJsonAsync("app-profiles", new AppProfileRequest("everyone", FailMode: FailModes.Closed, ForwardingProfileId: split!.Id), TestPortal.Json)).EnsureSuccessStatusCode();
        topology.StartService();
        await topology.WaitForTransparentAsync();
        Assert.Equal("untrusted", (await topology.StatusAsync())!.Network);

        topology.Endpoint.Ip("tuntap", "add", "mode", "tun", "name", "tun-corp");
        topology.Endpoint.Ip("addr", "add", "172.31.255.1/32", "dev", "tun-corp");
        topology.Endpoint.Ip("link", "set", "tun-corp", "up");

        await AgentFixture.WaitUntilAsync(async () => await topology.StatusAsync() is { Network: "vpn", Mode: AgentModes.LocalProxy } && !topology.NftTableExists(), "the agent to stand aside while the VPN is up", () => $"{topology.StatusAsync().GetAwaiter().GetResult()}\n{topology.ServiceLog}");
        var direct = await topology.CurlAsync("http://www.agent.test/");
        Assert.Equal($"origin saw {topology.EndpointInternetAddress} ask for www.agent.test over http\n", direct.Output);

        topology.Endpoint.Ip("link", "delete", "tun-corp");
        await topology.WaitForTransparentAsync();
        Assert.Equal("untrusted", (await topology.StatusAsync())!.Network);
    }

    /// <summary>
    /// Makes <c>*.corp.agent.test</c> a private app that ada may reach, served by a connector running here (the
    /// test's own namespace, which reaches the origin): the edge never dials a private app itself, so the
    /// origin sees this namespace's address, as it would for a flow the edge dialled.
    /// </summary>
    private static async Task<Connector.Hosting.RunningConnector> AddPrivateAppAsync(EndpointTopology topology)
    {
        var admin = topology.Agent.Admin;
        var group = await (await admin.PostAsJsonAsync("connector-groups", new NamedObjectRequest("here"), TestPortal.Json)).Content.ReadFromJsonAsync<ConnectorGroupDto>(TestPortal.Json);
        var segment = await admin.PostAsJsonAsync("app-segments", new AppSegmentRequest("wiki", Domains: ["*.corp.agent.test"], Ports: ["80", "443"], ConnectorGroupIds: [group!.Id]), TestPortal.Json);
        Assert.True(segment.IsSuccessStatusCode, await segment.Content.ReadAsStringAsync());
        var access = new Gatehouse.Wire.Policy.PolicyRuleSpec { Name = "ada-wiki", Action = "allow", Criteria = new() { Users = ["ada@example.test"], AppSegments = ["wiki"] } };
        (await admin.PutAsJsonAsync("access-policy", new Gatehouse.Wire.Policy.PolicyDocument([access]), TestPortal.Json)).EnsureSuccessStatusCode();

        var key = await (await admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("here", "connector", group.Id, null, 1), TestPortal.Json)).Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>(TestPortal.Json);
        var store = new Node.Credentials.NodeCredentialStore(Path.Combine(topology.Agent.StateDirectory, "..", "connector"));
        using (await new Node.Enrollment.NodeEnrollment().EnrollServiceAsync(store, Trust.Certificates.IdentityKinds.Connector, topology.Agent.Portal.BaseAddress, Node.Credentials.PortalTrust.Pinned(topology.Agent.Portal.TlsCertificatePem), key!.Key, "here", null))
        {
        }

        var connector = await Connector.Hosting.ConnectorHost.StartAsync(new Connector.Hosting.ConnectorOptions
        {
            StateDirectory = store.Directory,
            Edges = [$"{topology.EdgeSideAddress}:{topology.Agent.TunnelPort}"],
            ResolveHost = (host, _) =>
            {
                topology.ConnectorResolved.Enqueue(host);
                return Task.FromResult(host.EndsWith("." + InternetOrigin.Zone, StringComparison.Ordinal) ? [topology.Origin.Address] : Array.Empty<System.Net.IPAddress>());
            },
            Follower = AgentFixture.Fast,
        });
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(topology.Agent.Edge!.DataPath.Connectors.Live.Count == 1), "the connector to link to the edge");
        return connector;
    }
}

/// <summary>Namespace tests run one at a time: each builds its own hosts, and the agent's ports are fixed inside.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NamespaceCollection
{
    public const string Name = "network namespaces";
}
