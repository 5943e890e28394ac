using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gatehouse.Agent.Tests.Dr;
using Gatehouse.Portal.Config;
using Gatehouse.Testing.Namespaces;
using Gatehouse.Testing.Portal;
using Gatehouse.Trust.Dr;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Dr;
using Gatehouse.Wire.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>
/// Disaster recovery on the test topology: the agent service runs as root in the endpoint
/// namespace (transparent mode), the cloud edge and the DR edge in the test's namespace, and a
/// real dnsmasq serves the signed TXT record on the edge host's link, as the customer's DNS would.
/// </summary>
[Collection(NamespaceCollection.Name)]
public sealed class DisasterRecoveryNamespaceTests
{
    private const string RecordName = "_gatehouse-dr.corp.test";
    private static readonly string CriticalApp = "app." + InternetOrigin.Zone;

    [NamespaceFact]
    public async Task The_cloud_edge_killed_and_the_record_on_move_the_endpoint_to_the_dr_edge_within_30_seconds_and_off_brings_it_back()
    {
        Assert.True(DnsmasqServer.UnavailableReason is null, DnsmasqServer.UnavailableReason);
        await using var topology = await EndpointTopology.StartAsync();
        var fixture = topology.Agent;
        var tenantId = (await fixture.Admin.GetFromJsonAsync<TenantDetailsDto>("tenant", TestPortal.Json))!.Id;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        string Record(long version, string state) =>
            DrRecordSigning.Sign(new DrRecord(tenantId, version, state, DrModes.Closed, now.AddMinutes(-1), now.AddHours(1)), key);

        var drEdge = await fixture.StartDrEdgeAsync();
        var critical = new PolicyRuleSpec { Name = "critical-apps", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Domains = [CriticalApp] } };
        var put = await fixture.Admin.PutAsJsonAsync("dr", new PutDrSettingsRequest(RecordName, key.ExportSubjectPublicKeyInfoPem(), [drEdge.Identity.SubjectId], null, [critical], PolicyActions.Block, 10), TestPortal.Json);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await fixture.Portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(tenantId, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var dns = await DnsmasqServer.StartAsync([(RecordName, Record(1, DrStates.Off))], listen: IPAddress.Parse(topology.EdgeSideAddress));
        topology.StartService(drResolver: dns.Address);
        await topology.WaitForTransparentAsync();

        await fixture.StopEdgeAsync();
        await dns.ReplaceRecordsAsync([(RecordName, Record(2, DrStates.On))]);
        var watch = Stopwatch.StartNew();
        await AgentFixture.WaitUntilAsync(
            async () => await topology.StatusAsync() is { State: AgentStates.DisasterRecovery } status && status.Summary.Contains("through DR edge", StringComparison.Ordinal),
            "the endpoint to go to the DR edge",
            () => $"{topology.StatusAsync().GetAwaiter().GetResult()}\nagent log:\n{topology.ServiceLog}");

        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        var app = await topology.CurlAsync($"http://{CriticalApp}/");
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for {CriticalApp} over http\n", app.Output);
        var outside = await topology.CurlAsync("-i", $"http://www.{InternetOrigin.Zone}/");
        Assert.Contains("403", outside.Output, StringComparison.Ordinal);
        Assert.Contains($"Gatehouse-Rule: {DrPolicy.OutsideRule}", outside.Output, StringComparison.OrdinalIgnoreCase);

        await fixture.StartEdgeAsync();
        await dns.ReplaceRecordsAsync([(RecordName, Record(3, DrStates.Off))]);
        await AgentFixture.WaitUntilAsync(
            async () => await topology.StatusAsync() is { State: AgentStates.Connected },
            "the endpoint to return to the cloud edge",
            () => $"{topology.StatusAsync().GetAwaiter().GetResult()}\nagent log:\n{topology.ServiceLog}");
        var back = await topology.CurlAsync($"http://www.{InternetOrigin.Zone}/");
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.{InternetOrigin.Zone} over http\n", back.Output);
    }

    [NamespaceFact]
    public async Task In_namespaces_forged_expired_and_older_records_are_ignored_a_drill_moves_only_its_group_and_fail_open_goes_direct()
    {
        Assert.True(DnsmasqServer.UnavailableReason is null, DnsmasqServer.UnavailableReason);
        await using var topology = await EndpointTopology.StartAsync();
        var fixture = topology.Agent;
        var tenantId = (await fixture.Admin.GetFromJsonAsync<TenantDetailsDto>("tenant", TestPortal.Json))!.Id;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        string Record(long version, string state, ECDsa? by = null, DateTimeOffset? expires = null) =>
            DrRecordSigning.Sign(new DrRecord(tenantId, version, state, DrModes.Open, now.AddHours(-2), expires ?? now.AddHours(1)), by ?? key);

        var drill = await GroupAsync(fixture, "drill");
        var others = await GroupAsync(fixture, "others");
        (await fixture.Admin.PatchAsJsonAsync($"users/{fixture.User.Id}", new UpdateUserRequest(GroupIds: [drill]), TestPortal.Json)).EnsureSuccessStatusCode();
        var drEdge = await fixture.StartDrEdgeAsync();
        async Task PutSettingsAsync(Guid drillGroup)
        {
            var critical = new PolicyRuleSpec { Name = "critical-apps", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Domains = [CriticalApp] } };
            var put = await fixture.Admin.PutAsJsonAsync("dr", new PutDrSettingsRequest(RecordName, key.ExportSubjectPublicKeyInfoPem(), [drEdge.Identity.SubjectId], drillGroup, [critical], PolicyActions.Block, 10), TestPortal.Json);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            await fixture.Portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(tenantId, TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        await PutSettingsAsync(others);
        using var dns = await DnsmasqServer.StartAsync([(RecordName, Record(1, DrStates.Off))], listen: IPAddress.Parse(topology.EdgeSideAddress));
        topology.StartService(drResolver: dns.Address);
        await topology.WaitForTransparentAsync();

        // Signed with another key, or expired: not taken, whatever they say. Then a drill for another group.
        await dns.ReplaceRecordsAsync([(RecordName, Record(10, DrStates.On, by: stranger)), (RecordName, Record(11, DrStates.On, expires: now.AddMinutes(-1)))]);
        await StaysAsync(topology, AgentStates.Connected);
        await dns.ReplaceRecordsAsync([(RecordName, Record(5, DrStates.Test))]);
        await StaysAsync(topology, AgentStates.Connected);

        // The drill is now this user's group: the endpoint moves; fail-open sends what the DR policy does not cover direct.
        await PutSettingsAsync(drill);
        await AgentFixture.WaitUntilAsync(
            async () => await topology.StatusAsync() is { State: AgentStates.DisasterRecovery } status && status.Summary.Contains("through DR edge", StringComparison.Ordinal),
            "the drill to move the endpoint",
            () => $"{topology.StatusAsync().GetAwaiter().GetResult()}\nagent log:\n{topology.ServiceLog}");
        Assert.StartsWith("drill, fail-open", (await topology.StatusAsync())!.Dr, StringComparison.Ordinal);
        var app = await topology.CurlAsync($"http://{CriticalApp}/");
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for {CriticalApp} over http\n", app.Output);
        var outside = await topology.CurlAsync($"http://www.{InternetOrigin.Zone}/");
        Assert.Equal($"origin saw {topology.EndpointInternetAddress} ask for www.{InternetOrigin.Zone} over http\n", outside.Output);

        // A replayed older record that says off is not taken; a newer one is, and the endpoint returns.
        await dns.ReplaceRecordsAsync([(RecordName, Record(4, DrStates.Off))]);
        await StaysAsync(topology, AgentStates.DisasterRecovery);
        await dns.ReplaceRecordsAsync([(RecordName, Record(6, DrStates.Off))]);
        await AgentFixture.WaitUntilAsync(
            async () => await topology.StatusAsync() is { State: AgentStates.Connected },
            "the endpoint to return after the drill",
            () => $"{topology.StatusAsync().GetAwaiter().GetResult()}\nagent log:\n{topology.ServiceLog}");
    }

    [NamespaceFact]
    public async Task With_the_cloud_gone_a_private_app_stays_reachable_through_its_connector_linked_to_the_dr_edge()
    {
        Assert.True(DnsmasqServer.UnavailableReason is null, DnsmasqServer.UnavailableReason);
        await using var topology = await EndpointTopology.StartAsync();
        await using var network = await PrivateNetwork.StartAsync(topology);
        var fixture = topology.Agent;
        await network.PutAccessPolicyAsync(new PolicyRuleSpec { Name = "ada-corp", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Users = ["ada@example.test"], AppSegments = ["corp-web"] } });
        var tenantId = (await fixture.Admin.GetFromJsonAsync<TenantDetailsDto>("tenant", TestPortal.Json))!.Id;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;
        string Record(long version, string state) =>
            DrRecordSigning.Sign(new DrRecord(tenantId, version, state, DrModes.Closed, now.AddMinutes(-1), now.AddHours(1)), key);
        var drEdge = await fixture.StartDrEdgeAsync();
        var put = await fixture.Admin.PutAsJsonAsync("dr", new PutDrSettingsRequest(RecordName, key.ExportSubjectPublicKeyInfoPem(), [drEdge.Identity.SubjectId], CheckSeconds: 10), TestPortal.Json);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await fixture.Portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(tenantId, TimeSpan.FromSeconds(10), CancellationToken.None);

        // The connector links to the cloud edge and to the DR edge, from its bundle.
        await network.StartConnectorAsync("connector-1");
        await AgentFixture.WaitUntilAsync(
            () => Task.FromResult(fixture.Edge!.DataPath.Connectors.Live.Count == 1 && drEdge.DataPath.Connectors.Live.Count == 1),
            "the connector to link to both edges", () => network.ConnectorLog);
        using var dns = await DnsmasqServer.StartAsync([(RecordName, Record(1, DrStates.Off))], listen: IPAddress.Parse(topology.EdgeSideAddress));
        topology.StartService(drResolver: dns.Address);
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.DigAsync(PrivateNetwork.WebName)).Output.Contains("100.64.", StringComparison.Ordinal), "the private app's name to resolve");

        // The cloud is gone: its edge and its portal.
        await fixture.StopEdgeAsync();
        await fixture.Portal.StopAsync();
        await dns.ReplaceRecordsAsync([(RecordName, Record(2, DrStates.On))]);
        await AgentFixture.WaitUntilAsync(
            async () => await topology.StatusAsync() is { State: AgentStates.DisasterRecovery } status && status.Summary.Contains("through DR edge", StringComparison.Ordinal),
            "the endpoint to go to the DR edge",
            () => $"{topology.StatusAsync().GetAwaiter().GetResult()}\nagent log:\n{topology.ServiceLog}");

        var web = await topology.CurlAsync($"http://{PrivateNetwork.WebName}/");
        Assert.True(web.Code == 0, $"{web.Error}\n{topology.ServiceLog}\n{network.ConnectorLog}");
        Assert.Equal($"origin saw {network.ConnectorAddress} ask for {PrivateNetwork.WebName} over http\n", web.Output);
    }

    // Past one check interval (10 s) and a margin, the state has not changed.
    private static async Task StaysAsync(EndpointTopology topology, string state)
    {
        var until = DateTime.UtcNow.AddSeconds(13);
        while (DateTime.UtcNow < until)
        {
            Assert.Equal(state, (await topology.StatusAsync())?.State);
            await Task.Delay(500);
        }
    }

    private static async Task<Guid> GroupAsync(AgentFixture fixture, string name)
    {
        var response = await fixture.Admin.PostAsJsonAsync("groups", new CreateGroupRequest(name), TestPortal.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<GroupDto>(TestPortal.Json))!.Id;
    }
}
