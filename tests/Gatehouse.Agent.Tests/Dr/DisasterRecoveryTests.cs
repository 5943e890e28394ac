using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gatehouse.Agent.DataPlane;
using Gatehouse.Edge.Hosting;
using Gatehouse.Portal.Config;
using Gatehouse.Testing.Portal;
using Gatehouse.Trust.Dr;
using Gatehouse.Wire.Agent;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Dr;
using Gatehouse.Wire.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Agent.Tests.Dr;

/// <summary>
/// Disaster recovery end to end, with a real DNS server (dnsmasq) serving the signed TXT record, a
/// real portal, a cloud edge, a DR edge in DR mode and the agent's data plane: the customer, not
/// the vendor, moves the fleet to its DR edge, and back.
/// </summary>
public sealed class DisasterRecoveryTests
{
    private const string RecordName = "_gatehouse-dr.corp.test";
    private const string CriticalApp = "payroll.dr.test";

    [DnsmasqFact]
    public async Task With_the_cloud_edge_gone_and_the_record_on_the_agent_is_in_dr_within_30_seconds_and_back_after_off()
    {
        await using var dr = await Scenario.StartAsync();
        Assert.Equal(AgentStates.Connected, dr.Agent.Status.State);

        await dr.Fixture.StopEdgeAsync();
        await dr.PublishAsync(dr.Record(2, DrStates.On, DrModes.Closed));
        var watch = Stopwatch.StartNew();
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(dr.Agent.Status.State == AgentStates.DisasterRecovery), "the agent to go to the DR edge", () => dr.Agent.Status);

        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        Assert.Contains("fail-closed", dr.Agent.Status.Dr, StringComparison.Ordinal);
        Assert.Contains("record version 2", dr.Agent.Status.Dr, StringComparison.Ordinal);
        await dr.WaitForDrEdgeAsync();
        var critical = await dr.CurlAsync(CriticalApp);
        Assert.Contains("\"status\"", critical.Output, StringComparison.Ordinal);
        var outside = await dr.CurlAsync("localhost");
        Assert.StartsWith("HTTP/1.1 403", outside.Output, StringComparison.Ordinal);
        Assert.Contains($"Gatehouse-Rule: {DrPolicy.OutsideRule}", outside.Output, StringComparison.Ordinal);

        // The cloud is back and the customer says off: the agent returns by itself.
        await dr.Fixture.StartEdgeAsync();
        await dr.PublishAsync(dr.Record(3, DrStates.Off, DrModes.Closed));
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(dr.Agent.Status.State == AgentStates.Connected), "the agent to return to the cloud edge", () => dr.Agent.Status);
        Assert.Null(dr.Agent.Status.Dr);
    }

    [DnsmasqFact]
    public async Task Deleting_the_dr_settings_brings_a_device_in_dr_back_to_the_cloud_edge_though_the_record_still_says_on()
    {
        await using var dr = await Scenario.StartAsync();
        await dr.PublishAsync(dr.Record(2, DrStates.On, DrModes.Closed));
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(dr.Agent.Status.State == AgentStates.DisasterRecovery), "the agent to go to the DR edge", () => dr.Agent.Status);

        var deleted = await dr.Fixture.Admin.DeleteAsync("dr");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(dr.Agent.Status.State == AgentStates.Connected), "the agent to return to the cloud edge", () => dr.Agent.Status);
        Assert.Null(dr.Agent.Status.Dr);

        // A new bundle makes the agent check its DR settings at once: with none, the record that still says on moves nothing.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(AgentStates.Connected, dr.Agent.Status.State);
        Assert.Null(dr.Agent.Status.Dr);
    }

    [DnsmasqFact]
    public async Task In_fail_open_dr_traffic_outside_the_dr_policy_goes_direct_and_the_critical_app_through_the_dr_edge()
    {
        await using var dr = await Scenario.StartAsync();
        await dr.Fixture.StopEdgeAsync();

        await dr.PublishAsync(dr.Record(2, DrStates.On, DrModes.Open));
        await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);

        Assert.Equal(AgentStates.DisasterRecovery, dr.Agent.Status.State);
        await dr.WaitForDrEdgeAsync();
        var critical = await dr.CurlAsync(CriticalApp);
        Assert.Contains("\"status\"", critical.Output, StringComparison.Ordinal);
        var outside = await dr.CurlAsync("localhost");
        Assert.StartsWith("HTTP/1.1 200", outside.Output, StringComparison.Ordinal);
        Assert.Equal(0, dr.Agent.Status.FlowsRefused);
    }

    [DnsmasqFact]
    public async Task Records_signed_with_another_key_expired_or_older_than_one_seen_are_ignored()
    {
        await using var dr = await Scenario.StartAsync();
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = DateTimeOffset.UtcNow;

        await dr.PublishAsync(
            dr.Record(10, DrStates.On, DrModes.Closed, key: stranger),
            DrRecordSigning.Sign(new DrRecord(dr.TenantId, 11, DrStates.On, DrModes.Closed, now.AddHours(-2), now.AddHours(-1)), dr.Key));
        await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);
        Assert.Equal(AgentStates.Connected, dr.Agent.Status.State);

        // Version 5 says off and is taken; a replayed version 4 that says on is older, so it is not.
        await dr.PublishAsync(dr.Record(5, DrStates.Off, DrModes.Closed));
        await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);
        await dr.PublishAsync(dr.Record(4, DrStates.On, DrModes.Closed));
        await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);
        Assert.Equal(AgentStates.Connected, dr.Agent.Status.State);

        // Version 5 again, saying on: the same version with other content (a record replayed, or signed by mistake) is
        // not taken either. It was, flipping devices in and out of DR with one version number.
        await dr.PublishAsync(dr.Record(5, DrStates.On, DrModes.Closed));
        await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);
        Assert.Equal(AgentStates.Connected, dr.Agent.Status.State);

        // The same lookup takes a valid newer record at once: the refusals above were the records', not the check's.
        await dr.PublishAsync(dr.Record(6, DrStates.On, DrModes.Closed));
        await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);
        Assert.Equal(AgentStates.DisasterRecovery, dr.Agent.Status.State);
    }

    [DnsmasqFact]
    public async Task A_test_record_moves_only_the_devices_of_the_drill_group()
    {
        await using var dr = await Scenario.StartAsync(userInDrillGroup: false);

        await dr.PublishAsync(dr.Record(2, DrStates.Test, DrModes.Closed));
        await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);
        Assert.Equal(AgentStates.Connected, dr.Agent.Status.State);

        // The drill group is now one the device's user belongs to.
        await dr.PutSettingsAsync(drillGroupId: dr.UserGroupId);
        await AgentFixture.WaitUntilAsync(async () =>
        {
            await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);
            return dr.Agent.Status.State == AgentStates.DisasterRecovery;
        }, "the drill to move this device", () => dr.Agent.Status);
        Assert.StartsWith("drill", dr.Agent.Status.Dr, StringComparison.Ordinal);
    }

    [DnsmasqFact]
    public async Task With_the_portal_down_and_no_dr_record_the_agent_and_edge_keep_working_on_their_last_known_good_config()
    {
        await using var dr = await Scenario.StartAsync();

        await dr.Fixture.Portal.StopAsync();
        await dr.RestartAgentAsync();

        Assert.Equal(AgentStates.Connected, dr.Agent.Status.State);

        // Unknown (null) until the restarted agent's first try to reach the portal has failed.
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(dr.Agent.Status.PortalReachable == false), "the agent to find the portal unreachable", () => dr.Agent.Status);
        var blocked = await AgentFixture.CurlAsync("-i", "-s", "-x", $"http://{dr.Agent.ProxyAddress}", $"http://{AgentFixture.BlockedHost}/");
        Assert.Contains("Gatehouse-Rule: block-casino", blocked.Output, StringComparison.Ordinal);
        var allowed = await AgentFixture.CurlAsync("-s", "-x", $"http://{dr.Agent.ProxyAddress}", dr.Fixture.OriginUrl);
        Assert.Contains("\"status\"", allowed.Output, StringComparison.Ordinal);
        await dr.Agent.CheckDisasterRecoveryAsync(CancellationToken.None);
        Assert.Equal(AgentStates.Connected, dr.Agent.Status.State);
    }

    /// <summary>A portal and cloud edge, a DR edge, the DR key, dnsmasq serving the record and the agent, all on loopback.</summary>
    private sealed class Scenario : IAsyncDisposable
    {
        private DnsmasqServer _dns = null!;
        private RunningEdge _drEdge = null!;
        private Guid _otherGroupId;

        public AgentFixture Fixture { get; private set; } = null!;

        public DataPlaneHost Agent { get; private set; } = null!;

        public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public Guid TenantId { get; private set; }

        public Guid UserGroupId { get; private set; }

        public static async Task<Scenario> StartAsync(bool userInDrillGroup = true)
        {
            var scenario = new Scenario();
            try
            {
                await scenario.InitializeAsync(userInDrillGroup);
                return scenario;
            }
            catch
            {
                await scenario.DisposeAsync();
                throw;
            }
        }

        private async Task InitializeAsync(bool userInDrillGroup)
        {
            Fixture = await AgentFixture.StartAsync();
            TenantId = (await Fixture.Admin.GetFromJsonAsync<TenantDetailsDto>("tenant", TestPortal.Json))!.Id;
            UserGroupId = await GroupAsync("drill");
            _otherGroupId = await GroupAsync("others");
            (await Fixture.Admin.PatchAsJsonAsync($"users/{Fixture.User.Id}", new UpdateUserRequest(GroupIds: [UserGroupId]), TestPortal.Json)).EnsureSuccessStatusCode();
            await Fixture.EnrollDeviceAsync();

            // The DR edge resolves the critical app, as the customer's DNS would behind it.
            _drEdge = await Fixture.StartDrEdgeAsync((host, ct) => host == CriticalApp ? Task.FromResult(new[] { IPAddress.Loopback }) : Dns.GetHostAddressesAsync(host, ct));
            await PutSettingsAsync(userInDrillGroup ? UserGroupId : _otherGroupId);
            _dns = await DnsmasqServer.StartAsync([(RecordName, Record(1, DrStates.Off, DrModes.Closed))]);
            Agent = Fixture.StartDataPlane(o => o with { DrResolvers = [_dns.Address] });
            await AgentFixture.WaitUntilAsync(() => Task.FromResult(Agent.Status.State == AgentStates.Connected), "the agent to connect to the cloud edge", () => Agent.Status);
        }

        public async Task PutSettingsAsync(Guid drillGroupId)
        {
            var critical = new PolicyRuleSpec { Name = "critical-apps", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Domains = [CriticalApp] } };
            var response = await Fixture.Admin.PutAsJsonAsync("dr", new PutDrSettingsRequest(RecordName, Key.ExportSubjectPublicKeyInfoPem(), [_drEdge.Identity.SubjectId], drillGroupId, [critical], PolicyActions.Block, 10), TestPortal.Json);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            await Fixture.Portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(TenantId, TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        public string Record(long version, string state, string mode, ECDsa? key = null)
        {
            var now = DateTimeOffset.UtcNow;
            return DrRecordSigning.Sign(new DrRecord(TenantId, version, state, mode, now.AddMinutes(-1), now.AddHours(1)), key ?? Key);
        }

        /// <summary>Stops the data plane and starts it again on its state directory, as after a reboot.</summary>
        public async Task RestartAgentAsync()
        {
            await Agent.DisposeAsync();
            Agent = Fixture.StartDataPlane(o => o with { DrResolvers = [_dns.Address] });
            await AgentFixture.WaitUntilAsync(() => Task.FromResult(Agent.Status.State == AgentStates.Connected), "the restarted agent to connect", () => Agent.Status);
        }

        public Task WaitForDrEdgeAsync() => AgentFixture.WaitUntilAsync(
            () => Task.FromResult(Agent.Status.Summary.Contains("through DR edge", StringComparison.Ordinal)), "the DR edge to answer", () => Agent.Status);

        public Task PublishAsync(params string[] texts) => _dns.ReplaceRecordsAsync(texts.Select(t => (RecordName, t)));

        /// <summary>GET /healthz of the DR edge's ops listener by <paramref name="host"/>, through the agent's local proxy.</summary>
        public Task<(int Code, string Output, string Error)> CurlAsync(string host) =>
            AgentFixture.CurlAsync("-i", "-s", "-x", $"http://{Agent.ProxyAddress}", $"http://{host}:{_drEdge.OpsAddress.Port}/healthz");

        public async ValueTask DisposeAsync()
        {
            if (Agent is not null)
            {
                await Agent.DisposeAsync();
            }

            _dns?.Dispose();
            if (Fixture is not null)
            {
                await Fixture.DisposeAsync();
            }

            Key.Dispose();
        }

        private async Task<Guid> GroupAsync(string name)
        {
            var response = await Fixture.Admin.PostAsJsonAsync("groups", new CreateGroupRequest(name), TestPortal.Json);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            return (await response.Content.ReadFromJsonAsync<GroupDto>(TestPortal.Json))!.Id;
        }
    }
}
