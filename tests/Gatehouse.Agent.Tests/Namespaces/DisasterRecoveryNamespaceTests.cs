using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gatehouse.Agent.Tests.Dr;
using Gatehouse.Edge.Hosting;
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
    private static readonly string CriticalApp = "app." + InternetOrigin.Zone;

    private static readonly PolicyRuleSpec CriticalApps = new() { Name = "critical-apps", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Domains = [CriticalApp] } };

    [NamespaceFact]
    public async Task The_cloud_edge_killed_and_the_record_on_move_the_endpoint_to_the_dr_edge_within_30_seconds_and_off_brings_it_back()
    {
        await using var topology = await EndpointTopology.StartAsync();
        using var dr = await DrSetup.StartAsync(topology, drillGroupId: null, CriticalApps);
        topology.StartService(drResolver: dr.Dns.Address);
        await topology.WaitForTransparentAsync();

        await topology.Agent.StopEdgeAsync();
        await dr.PublishAsync(dr.Record(2, DrStates.On));
        var watch = Stopwatch.StartNew();
        await dr.WaitForStateAsync(AgentStates.DisasterRecovery, "the endpoint to go to the DR edge");

        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        var app = await topology.CurlAsync($"http://{CriticalApp}/");
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for {CriticalApp} over http\n", app.Output);
        var outside = await topology.CurlAsync("-i", $"http://www.{InternetOrigin.Zone}/");
        Assert.Contains("403", outside.Output, StringComparison.Ordinal);
        Assert.Contains($"Gatehouse-Rule: {DrPolicy.OutsideRule}", outside.Output, StringComparison.OrdinalIgnoreCase);

        await topology.Agent.StartEdgeAsync();
        await dr.PublishAsync(dr.Record(3, DrStates.Off));
        await dr.WaitForStateAsync(AgentStates.Connected, "the endpoint to return to the cloud edge");
        var back = await topology.CurlAsync($"http://www.{InternetOrigin.Zone}/");
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for www.{InternetOrigin.Zone} over http\n", back.Output);
    }

    [NamespaceFact]
    public async Task In_namespaces_forged_expired_and_older_records_are_ignored_a_drill_moves_only_its_group_and_fail_open_goes_direct()
    {
        await using var topology = await EndpointTopology.StartAsync();
        var drill = await GroupAsync(topology.Agent, "drill");
        var others = await GroupAsync(topology.Agent, "others");
        (await topology.Agent.Admin.PatchAsJsonAsync($"users/{topology.Agent.User.Id}", new UpdateUserRequest(GroupIds: [drill]), TestPortal.Json)).EnsureSuccessStatusCode();
        using var dr = await DrSetup.StartAsync(topology, others, CriticalApps);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        topology.StartService(drResolver: dr.Dns.Address);
        await topology.WaitForTransparentAsync();

        // Signed with another key, or expired: not taken, whatever they say. Then a drill for another group.
        await dr.PublishAsync(dr.Record(10, DrStates.On, by: stranger), dr.Record(11, DrStates.On, expires: DateTimeOffset.UtcNow.AddMinutes(-1)));
        await StaysAsync(topology, AgentStates.Connected);
        await dr.PublishAsync(dr.Record(5, DrStates.Test, DrModes.Open));
        await StaysAsync(topology, AgentStates.Connected);

        // The drill is now this user's group: the endpoint moves; fail-open sends what the DR policy does not cover direct.
        await dr.PutSettingsAsync(drill, CriticalApps);
        await dr.WaitForStateAsync(AgentStates.DisasterRecovery, "the drill to move the endpoint");
        Assert.StartsWith("drill, fail-open", (await topology.StatusAsync())!.Dr, StringComparison.Ordinal);
        var app = await topology.CurlAsync($"http://{CriticalApp}/");
        Assert.Equal($"origin saw {topology.EdgeInternetAddress} ask for {CriticalApp} over http\n", app.Output);
        var outside = await topology.CurlAsync($"http://www.{InternetOrigin.Zone}/");
        Assert.Equal($"origin saw {topology.EndpointInternetAddress} ask for www.{InternetOrigin.Zone} over http\n", outside.Output);

        // A replayed older record that says off is not taken; a newer one is, and the endpoint returns.
        await dr.PublishAsync(dr.Record(4, DrStates.Off));
        await StaysAsync(topology, AgentStates.DisasterRecovery);
        await dr.PublishAsync(dr.Record(6, DrStates.Off));
        await dr.WaitForStateAsync(AgentStates.Connected, "the endpoint to return after the drill");
    }

    [NamespaceFact]
    public async Task With_the_cloud_gone_a_private_app_stays_reachable_through_its_connector_linked_to_the_dr_edge()
    {
        await using var topology = await EndpointTopology.StartAsync();
        await using var network = await PrivateNetwork.StartAsync(topology);
        await network.PutAccessPolicyAsync(new PolicyRuleSpec { Name = "ada-corp", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Users = ["ada@example.test"], AppSegments = ["corp-web"] } });
        using var dr = await DrSetup.StartAsync(topology, drillGroupId: null);

        // The connector links to the cloud edge and to the DR edge, from its bundle.
        await network.StartConnectorAsync("connector-1");
        await AgentFixture.WaitUntilAsync(
            () => Task.FromResult(topology.Agent.Edge!.DataPath.Connectors.Live.Count == 1 && dr.Edge.DataPath.Connectors.Live.Count == 1),
            "the connector to link to both edges", () => network.ConnectorLog);
        topology.StartService(drResolver: dr.Dns.Address);
        await topology.WaitForTransparentAsync();
        await AgentFixture.WaitUntilAsync(async () => (await topology.DigAsync(PrivateNetwork.WebName)).Output.Contains("100.64.", StringComparison.Ordinal), "the private app's name to resolve");

        // The cloud is gone: its edge and its portal.
        await topology.Agent.StopEdgeAsync();
        await topology.Agent.Portal.StopAsync();
        await dr.PublishAsync(dr.Record(2, DrStates.On));
        await dr.WaitForStateAsync(AgentStates.DisasterRecovery, "the endpoint to go to the DR edge");

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

    /// <summary>
    /// The customer's side of DR on a topology: its DR key, a DR edge next to the cloud edge, the DR
    /// settings naming them (checked every 10 s), and dnsmasq serving the record (version 1, off) on
    /// the edge host's link, where the endpoint reaches it.
    /// </summary>
    private sealed class DrSetup : IDisposable
    {
        private const string RecordName = "_gatehouse-dr.corp.test";

        private readonly EndpointTopology _topology;
        private Guid _tenantId;

        private DrSetup(EndpointTopology topology) => _topology = topology;

        public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public RunningEdge Edge { get; private set; } = null!;

        public DnsmasqServer Dns { get; private set; } = null!;

        public static async Task<DrSetup> StartAsync(EndpointTopology topology, Guid? drillGroupId, params PolicyRuleSpec[] rules)
        {
            Assert.True(DnsmasqServer.UnavailableReason is null, DnsmasqServer.UnavailableReason);
            var setup = new DrSetup(topology);
            try
            {
                setup._tenantId = (await topology.Agent.Admin.GetFromJsonAsync<TenantDetailsDto>("tenant", TestPortal.Json))!.Id;
                setup.Edge = await topology.Agent.StartDrEdgeAsync();
                await setup.PutSettingsAsync(drillGroupId, rules);
                setup.Dns = await DnsmasqServer.StartAsync([(RecordName, setup.Record(1, DrStates.Off))], listen: IPAddress.Parse(topology.EdgeSideAddress));
                return setup;
            }
            catch
            {
                setup.Dispose();
                throw;
            }
        }

        public async Task PutSettingsAsync(Guid? drillGroupId, params PolicyRuleSpec[] rules)
        {
            var fixture = _topology.Agent;
            var put = await fixture.Admin.PutAsJsonAsync("dr", new PutDrSettingsRequest(RecordName, Key.ExportSubjectPublicKeyInfoPem(), [Edge.Identity.SubjectId], drillGroupId, rules, PolicyActions.Block, 10), TestPortal.Json);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            await fixture.Portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(_tenantId, TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        public string Record(long version, string state, string mode = DrModes.Closed, ECDsa? by = null, DateTimeOffset? expires = null)
        {
            var now = DateTimeOffset.UtcNow;
            return DrRecordSigning.Sign(new DrRecord(_tenantId, version, state, mode, now.AddHours(-2), expires ?? now.AddHours(1)), by ?? Key);
        }

        public Task PublishAsync(params string[] texts) => Dns.ReplaceRecordsAsync(texts.Select(t => (RecordName, t)));

        /// <summary>Waits for <paramref name="state"/>; in DR, also for the DR edge to answer.</summary>
        public Task WaitForStateAsync(string state, string what) => AgentFixture.WaitUntilAsync(
            async () => await _topology.StatusAsync() is { } status && status.State == state &&
                (state != AgentStates.DisasterRecovery || status.Summary.Contains("through DR edge", StringComparison.Ordinal)),
            what,
            () => $"{_topology.StatusAsync().GetAwaiter().GetResult()}\nagent log:\n{_topology.ServiceLog}");

        public void Dispose()
        {
            Dns?.Dispose();
            Key.Dispose();
        }
    }
}
