using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Tests.Enrollment;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Trust.Bundles;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Config;
using Gatehouse.Wire.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Dr;

/// <summary>
/// A tenant's DR settings through the API, and what they put in the bundles: the DR edge's bundle
/// carries the DR policy ending in <c>dr-outside</c>; agents get the trigger settings and no DR
/// edge in their normal list; connectors link to DR edges too.
/// </summary>
public sealed class DrSettingsTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private HttpClient _admin = null!;
    private TenantDetailsDto _tenant = null!;
    private readonly ECDsa _drKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _admin = await _portal.SignInAsync();
        _tenant = (await _admin.GetFromJsonAsync<TenantDetailsDto>("tenant", PortalServer.Json))!;
    }

    public async Task DisposeAsync()
    {
        _drKey.Dispose();
        _admin.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task The_dr_edge_gets_the_dr_policy_agents_the_trigger_settings_and_connectors_every_edge()
    {
        using var fleet = await EnrollFleetAsync();
        var (_, dr, device) = fleet;
        var drillGroup = await CreateGroupAsync("drill");
        var critical = new PolicyRuleSpec { Name = "critical-apps", Action = PolicyActions.Allow, Criteria = new PolicyCriteria { Domains = ["*.payroll.example"] } };

        var put = await _admin.PutAsJsonAsync("dr", new PutDrSettingsRequest("_gatehouse-dr.corp.example.", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId], drillGroup.Id, [critical], PolicyActions.Block, 30), PortalServer.Json);

        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var settings = (await put.Content.ReadFromJsonAsync<DrSettingsDto>(PortalServer.Json))!;
        Assert.True(settings.Ready);
        Assert.Equal("_gatehouse-dr.corp.example", settings.RecordName);
        await _portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);

        using var drClient = dr.CreateClient(_portal);
        var drBundle = await VerifiedAsync(drClient, BundleConsumers.Dr);
        var policy = drBundle.Body["policy"]!.AsArray();
        Assert.Equal(["critical-apps", DrPolicy.OutsideRule], policy.Select(r => (string?)r!["name"]));
        Assert.Equal("block", (string?)policy[1]!["action"]);
        Assert.NotNull(drBundle.Body["ca"]);
        Assert.Contains(device.Response.SubjectId.ToString(), drBundle.Body.ToJsonString(), StringComparison.Ordinal);

        using var deviceClient = device.CreateClient(_portal);
        var agentBundle = await VerifiedAsync(deviceClient, BundleConsumers.Agent);
        Assert.Equal(["cloud.example.test:7444"], agentBundle.Body["edges"]!.AsArray().Select(e => (string?)e!["address"]));
        var agentDr = agentBundle.Body["dr"]!;
        Assert.Equal("_gatehouse-dr.corp.example", (string?)agentDr["recordName"]);
        Assert.Equal(Convert.ToBase64String(_drKey.ExportSubjectPublicKeyInfo()), (string?)agentDr["publicKey"]);
        Assert.Equal(["dr.corp.example:7444"], agentDr["edges"]!.AsArray().Select(e => (string?)e!["address"]));
        Assert.Equal(drillGroup.Id.ToString(), (string?)agentDr["drillGroupId"]);
        Assert.Equal(30, (long)agentDr["checkSeconds"]!);

        using var connector = await Enrollee.EnrollConnectorAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Connector, await CreateConnectorGroupAsync()));
        using var connectorClient = connector.CreateClient(_portal);
        var connectorBundle = await VerifiedAsync(connectorClient, BundleConsumers.Connector);
        Assert.Equal(2, connectorBundle.Body["edges"]!.AsArray().Count);

        // The export an admin keeps for a DR edge started with no portal is the same signed bundle.
        var exported = await _admin.GetByteArrayAsync("dr/bundle");
        Assert.True(Verifier(BundleConsumers.Dr).Verify(exported, null).IsValid);
    }

    [Fact]
    public async Task Dr_bundles_are_written_to_the_export_directory_when_they_change_and_removed_when_dr_is_deleted()
    {
        var directory = Path.Combine(_portal.DataDirectory, "dr-export");
        await using var portal = await PortalServer.StartAsync(configure: o => (o.DrExportDirectory, o.DrExportSeconds) = (directory, 3600));
        using var admin = await portal.SignInAsync();
        var tenant = (await admin.GetFromJsonAsync<TenantDetailsDto>("tenant", PortalServer.Json))!;
        using var dr = await Enrollee.EnrollEdgeAsync(portal, await Enrollee.CreateProvisioningKeyAsync(admin, ProvisioningKinds.Edge), "dr.corp.example:7444");
        var exporter = portal.Services.GetRequiredService<Gatehouse.Portal.Dr.DrExporter>();
        var settings = new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId]);

        (await admin.PutAsJsonAsync("dr", settings, PortalServer.Json)).EnsureSuccessStatusCode();
        await portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(1, await exporter.ExportAsync(CancellationToken.None));
        Assert.Equal(0, await exporter.ExportAsync(CancellationToken.None));
        var file = Path.Combine(directory, $"{tenant.Id:D}.dr-bundle.json");
        using var key = ECDsa.Create();
        key.ImportFromPem(tenant.ConfigKeyPublicPem);
        var verifier = new BundleVerifier([key.ExportSubjectPublicKeyInfo()], tenant.Id.ToString(), BundleConsumers.Dr, TimeProvider.System);
        var first = verifier.Verify(await File.ReadAllBytesAsync(file), null);
        Assert.True(first.IsValid, first.Reason);

        // It lists the tenant's users, devices and proxy credentials' hashes: it was written readable by everyone.
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        (await admin.PutAsJsonAsync("dr", settings with { DefaultAction = PolicyActions.Allow }, PortalServer.Json)).EnsureSuccessStatusCode();
        await portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(1, await exporter.ExportAsync(CancellationToken.None));
        var second = verifier.Verify(await File.ReadAllBytesAsync(file), first.Bundle!.Header.Version);
        Assert.True(second.IsValid, second.Reason);
        Assert.Equal("allow", (string?)second.Bundle!.Body["policy"]![0]!["action"]);

        // DR deleted: the tenant's file goes at the next pass; files that are not DR bundles stay.
        var other = Path.Combine(directory, "notes.txt");
        await File.WriteAllTextAsync(other, "kept");
        (await admin.DeleteAsync("dr")).EnsureSuccessStatusCode();
        Assert.Equal(0, await exporter.ExportAsync(CancellationToken.None));
        Assert.False(File.Exists(file));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public async Task A_tenant_without_dr_settings_gets_no_dr_bundle_and_a_404_naming_the_command_until_it_sets_them()
    {
        using var dr = await EnrollEdgeAsync("dr.corp.example:7444");
        using var drClient = dr.CreateClient(_portal);
        var publisher = _portal.Services.GetRequiredService<ConfigPublisher>();
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);

        var follow = await drClient.GetAsync("config/dr?wait=0");
        var export = await _admin.GetAsync("dr/bundle");

        Assert.Equal(HttpStatusCode.NotFound, follow.StatusCode);
        Assert.Contains("gatehouse dr set", await follow.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, export.StatusCode);
        Assert.Null(publisher.Slot(_tenant.Id, BundleConsumers.Dr).Current);
        Assert.NotNull(publisher.Slot(_tenant.Id, BundleConsumers.Edge).Current);

        var put = await _admin.PutAsJsonAsync("dr", new PutDrSettingsRequest("_gatehouse-dr.corp.example.", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId], null, [], PolicyActions.Allow, 30), PortalServer.Json);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, (await drClient.GetAsync("config/dr?wait=0")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync("dr/bundle")).StatusCode);
    }

    [Fact]
    public async Task Deleting_the_settings_takes_dr_out_of_agents_bundles_stops_the_dr_bundle_and_is_audited()
    {
        using var fleet = await EnrollFleetAsync();
        var (_, dr, device) = fleet;
        using var drClient = dr.CreateClient(_portal);
        using var deviceClient = device.CreateClient(_portal);
        var publisher = _portal.Services.GetRequiredService<ConfigPublisher>();
        (await _admin.PutAsJsonAsync("dr", new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId]), PortalServer.Json)).EnsureSuccessStatusCode();
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        var before = await VerifiedAsync(deviceClient, BundleConsumers.Agent);
        Assert.NotNull(before.Body["dr"]);
        Assert.Equal(HttpStatusCode.OK, (await drClient.GetAsync("config/dr?wait=0")).StatusCode);

        var deleted = await _admin.DeleteAsync("dr");
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var after = await VerifiedAsync(deviceClient, BundleConsumers.Agent);
        Assert.True(after.Header.Version > before.Header.Version);
        Assert.Null(after.Body["dr"]);
        Assert.Equal(HttpStatusCode.NotFound, (await drClient.GetAsync("config/dr?wait=0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("dr/bundle")).StatusCode);
        var shown = (await _admin.GetFromJsonAsync<DrSettingsDto>("dr", PortalServer.Json))!;
        Assert.Null(shown.RecordName);
        Assert.False(shown.Ready);
        var audit = (await _admin.GetFromJsonAsync<Page<AuditEntryDto>>("audit?limit=500", PortalServer.Json))!.Items;
        Assert.Contains(audit, e => e.Action == "dr.delete");

        // Nothing left to delete: a 404 that says so, and nothing changes.
        var again = await _admin.DeleteAsync("dr");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Contains("no DR settings to delete", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Set up again, DR is back for agents and the DR edge.
        (await _admin.PutAsJsonAsync("dr", new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId]), PortalServer.Json)).EnsureSuccessStatusCode();
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.NotNull((await VerifiedAsync(deviceClient, BundleConsumers.Agent)).Body["dr"]);
        Assert.Equal(HttpStatusCode.OK, (await drClient.GetAsync("config/dr?wait=0")).StatusCode);
    }

    [Fact]
    public async Task Revoking_the_only_dr_edge_takes_dr_out_of_agents_bundles_and_they_go_on_taking_them()
    {
        // Agents refused every bundle with DR settings that named no edge: their config froze until `dr delete`.
        using var fleet = await EnrollFleetAsync();
        var (_, dr, device) = fleet;
        using var deviceClient = device.CreateClient(_portal);
        var publisher = _portal.Services.GetRequiredService<ConfigPublisher>();
        (await _admin.PutAsJsonAsync("dr", new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId]), PortalServer.Json)).EnsureSuccessStatusCode();
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.NotNull((await VerifiedAsync(deviceClient, BundleConsumers.Agent)).Body["dr"]);

        (await _admin.PostAsync($"edges/{dr.Response.SubjectId}/revoke", null)).EnsureSuccessStatusCode();
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);

        var after = await VerifiedAsync(deviceClient, BundleConsumers.Agent);
        Assert.Null(after.Body["dr"]);
        Assert.False((await _admin.GetFromJsonAsync<DrSettingsDto>("dr", PortalServer.Json))!.Ready);
    }

    [Fact]
    public async Task An_edge_that_follows_the_dr_bundle_never_becomes_an_agents_everyday_edge()
    {
        // After `dr delete`, agents took the DR edge as an everyday one, while it went on enforcing its last DR policy.
        using var fleet = await EnrollFleetAsync();
        var (cloud, dr, device) = fleet;
        using var drClient = dr.CreateClient(_portal);
        using var deviceClient = device.CreateClient(_portal);
        var publisher = _portal.Services.GetRequiredService<ConfigPublisher>();
        (await _admin.PutAsJsonAsync("dr", new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId]), PortalServer.Json)).EnsureSuccessStatusCode();
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await drClient.GetAsync("config/dr?wait=0")).StatusCode);

        (await _admin.DeleteAsync("dr")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NotFound, (await drClient.GetAsync("config/dr?wait=0")).StatusCode);
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);

        var edges = (await VerifiedAsync(deviceClient, BundleConsumers.Agent)).Body["edges"]!.AsArray().Select(e => (string)e!["id"]!).ToList();
        Assert.Equal([cloud.Response.SubjectId.ToString()], edges);

        // Run as an everyday edge again, it is one.
        Assert.Equal(HttpStatusCode.OK, (await drClient.GetAsync("config/edge?wait=0")).StatusCode);
        await publisher.SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(2, (await VerifiedAsync(deviceClient, BundleConsumers.Agent)).Body["edges"]!.AsArray().Count);
    }

    [Fact]
    public async Task Only_edges_may_follow_the_dr_bundle()
    {
        using var device = await EnrollDeviceAsync();
        using var client = device.CreateClient(_portal);

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("config/dr")).StatusCode);
    }

    [Fact]
    public async Task Bad_settings_are_refused_with_the_field_and_the_last_good_ones_stay()
    {
        using var dr = await EnrollEdgeAsync("dr.corp.example:7444");
        var good = new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId]);
        (await _admin.PutAsJsonAsync("dr", good, PortalServer.Json)).EnsureSuccessStatusCode();
        using var rsa = RSA.Create(2048);
        var reserved = new PolicyRuleSpec { Name = DrPolicy.OutsideRule, Action = PolicyActions.Allow };

        var cases = new (PutDrSettingsRequest Request, string Field)[]
        {
            (good with { PublicKeyPem = "not a key" }, "publicKeyPem"),
            (good with { PublicKeyPem = rsa.ExportSubjectPublicKeyInfoPem() }, "publicKeyPem"),
            (good with { EdgeIds = [Guid.NewGuid()] }, "edgeIds"),
            (good with { DrillGroupId = Guid.NewGuid() }, "drillGroupId"),
            (good with { Rules = [reserved] }, "rules"),
            (good with { DefaultAction = "caution" }, "defaultAction"),
            (good with { CheckSeconds = 1 }, "checkSeconds"),
            (good with { RecordName = "not a name!" }, "recordName"),
        };
        foreach (var (request, field) in cases)
        {
            var response = await _admin.PutAsJsonAsync("dr", request, PortalServer.Json);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(field, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var kept = (await _admin.GetFromJsonAsync<DrSettingsDto>("dr", PortalServer.Json))!;
        Assert.Equal("_dr.corp.example", kept.RecordName);
        Assert.Equal(60, kept.CheckSeconds);
        Assert.True(kept.Ready);
    }

    [Fact]
    public async Task Dr_edges_that_would_leave_enrolled_devices_with_no_edge_outside_dr_are_refused()
    {
        // The tenant's only cloud edge named as a DR edge took it out of every agent's edge list: fail-open agents went direct.
        using var cloud = await EnrollEdgeAsync("cloud.example.test:7444");
        using var device = await EnrollDeviceAsync();
        var settings = new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [cloud.Response.SubjectId]);

        var refused = await _admin.PutAsJsonAsync("dr", settings, PortalServer.Json);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.Content.ReadAsStringAsync();
        Assert.Contains("edgeIds", problem, StringComparison.Ordinal);
        Assert.Contains("no edge outside DR", problem, StringComparison.Ordinal);
        Assert.False((await _admin.GetFromJsonAsync<DrSettingsDto>("dr", PortalServer.Json))!.Ready);
        await _portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var deviceClient = device.CreateClient(_portal);
        Assert.Equal(["cloud.example.test:7444"], (await VerifiedAsync(deviceClient, BundleConsumers.Agent)).Body["edges"]!.AsArray().Select(e => (string?)e!["address"]));

        // A DR edge of its own is the way: the cloud edge stays the agents'.
        using var dr = await EnrollEdgeAsync("dr.corp.example:7444");
        var put = await _admin.PutAsJsonAsync("dr", settings with { EdgeIds = [dr.Response.SubjectId] }, PortalServer.Json);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_edge_that_still_follows_the_dr_bundle_is_not_counted_as_an_edge_outside_dr()
    {
        // The old DR edge, still in standby on the DR bundle, is in no agent's list: naming the cloud edge left agents none.
        using var fleet = await EnrollFleetAsync();
        var (cloud, oldDr, _) = fleet;
        using var oldDrClient = oldDr.CreateClient(_portal);
        var settings = new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [oldDr.Response.SubjectId]);
        (await _admin.PutAsJsonAsync("dr", settings, PortalServer.Json)).EnsureSuccessStatusCode();
        await _portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await oldDrClient.GetAsync("config/dr?wait=0")).StatusCode);

        var refused = await _admin.PutAsJsonAsync("dr", settings with { EdgeIds = [cloud.Response.SubjectId] }, PortalServer.Json);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("no edge outside DR", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_everyday_edge_that_is_offline_still_counts_as_an_edge_outside_dr()
    {
        // The guard keeps `dr set` from emptying agents' edge lists, which hold every active edge, answering or not.
        // Refusing on liveness would refuse setting up DR while the cloud edges are down, when it is wanted most.
        using var fleet = await EnrollFleetAsync();
        var (cloud, dr, device) = fleet;
        Assert.Null((await _admin.GetFromJsonAsync<EdgeDto>($"edges/{cloud.Response.SubjectId}", PortalServer.Json))!.LastSeenAt);

        var put = await _admin.PutAsJsonAsync("dr", new PutDrSettingsRequest("_dr.corp.example", _drKey.ExportSubjectPublicKeyInfoPem(), [dr.Response.SubjectId]), PortalServer.Json);

        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        await _portal.Services.GetRequiredService<ConfigPublisher>().SettledAsync(_tenant.Id, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var deviceClient = device.CreateClient(_portal);
        var edges = (await VerifiedAsync(deviceClient, BundleConsumers.Agent)).Body["edges"]!.AsArray().Select(e => (string?)e!["id"]);
        Assert.Equal([cloud.Response.SubjectId.ToString()], edges);
    }

    /// <summary>What most DR tests start from: the tenant's everyday (cloud) edge, an edge to make its DR edge, and a device.</summary>
    private sealed record Fleet(Enrollee Cloud, Enrollee Dr, Enrollee Device) : IDisposable
    {
        public void Dispose()
        {
            Cloud.Dispose();
            Dr.Dispose();
            Device.Dispose();
        }
    }

    private async Task<Fleet> EnrollFleetAsync() =>
        new(await EnrollEdgeAsync("cloud.example.test:7444"), await EnrollEdgeAsync("dr.corp.example:7444"), await EnrollDeviceAsync());

    private async Task<Enrollee> EnrollEdgeAsync(string address) =>
        await Enrollee.EnrollEdgeAsync(_portal, await Enrollee.CreateProvisioningKeyAsync(_admin, ProvisioningKinds.Edge), address);

    private async Task<Enrollee> EnrollDeviceAsync() => await Enrollee.EnrollDeviceAsync(_portal, await Enrollee.CreateTokenAsync(_admin));

    private BundleVerifier Verifier(string consumer)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(_tenant.ConfigKeyPublicPem);
        return new BundleVerifier([key.ExportSubjectPublicKeyInfo()], _tenant.Id.ToString(), consumer, TimeProvider.System);
    }

    private async Task<VerifiedBundle> VerifiedAsync(HttpClient client, string consumer)
    {
        var response = await client.GetAsync($"config/{consumer}");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var verified = Verifier(consumer).Verify(await response.Content.ReadAsByteArrayAsync(), null);
        Assert.True(verified.IsValid, verified.Reason);
        return verified.Bundle!;
    }

    private async Task<GroupDto> CreateGroupAsync(string name)
    {
        var response = await _admin.PostAsJsonAsync("groups", new CreateGroupRequest(name), PortalServer.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<GroupDto>(PortalServer.Json))!;
    }

    private async Task<Guid> CreateConnectorGroupAsync()
    {
        var response = await _admin.PostAsJsonAsync("connector-groups", new NamedObjectRequest("paris"), PortalServer.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ConnectorGroupDto>(PortalServer.Json))!.Id;
    }
}
