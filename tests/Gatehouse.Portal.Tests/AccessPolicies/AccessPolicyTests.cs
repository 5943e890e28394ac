using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Portal.Tests.AccessPolicies;

/// <summary>The access policy of private apps and server groups, as admins write them.</summary>
public sealed class AccessPolicyTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _client = await _portal.SignInAsync();
        await CreateAsync<GroupDto>("groups", new CreateGroupRequest("engineering"));
        var business = await CreateAsync<SegmentGroupDto>("segment-groups", new NamedObjectRequest("business"));
        await CreateAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("wiki", Domains: ["wiki.corp.example"], Ports: ["443"], SegmentGroupId: business.Id));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task An_access_policy_is_replaced_whole_and_read_back_in_order()
    {
        const string yaml = """
            rules:
              - name: engineering-business
                action: allow
                criteria: { groups: [engineering], segmentGroups: [business], posture: [disk-encrypted] }
              - name: wiki-off-hours
                action: block
                enabled: false
                criteria: { appSegments: [wiki], schedule: { days: [sat, sun], from: "00:00", to: "23:59" } }
            """;
        using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        (await _client.PutAsync("access-policy", content)).EnsureSuccessStatusCode();

        var rules = (await _client.GetFromJsonAsync<List<PolicyRuleDto>>("access-policy", PortalServer.Json))!;

        Assert.Equal(["engineering-business", "wiki-off-hours"], rules.Select(r => r.Rule.Name));
        Assert.Equal(["business"], rules[0].Rule.Criteria.SegmentGroups);
        Assert.False(rules[1].Rule.Enabled);
    }

    [Theory]
    [InlineData("""{"rules":[{"name":"r","action":"caution","criteria":{"appSegments":["wiki"]}}]}""", "rules[0].action")]
    [InlineData("""{"rules":[{"name":"r","action":"allow","criteria":{"domains":["wiki.corp.example"]}}]}""", "rules[0].criteria.domains")]
    [InlineData("""{"rules":[{"name":"r","action":"allow","criteria":{"ports":["443"]}}]}""", "rules[0].criteria.ports")]
    [InlineData("""{"rules":[{"name":"r","action":"allow","criteria":{},"inspect":["dlp"]}]}""", "rules[0].inspect")]
    [InlineData("""{"rules":[{"name":"r","action":"allow","criteria":{"segmentGroups":["nope"]}}]}""", "rules[0].criteria.segmentGroups[0]")]
    [InlineData("""{"rules":[{"name":"r","action":"allow","criteria":{"appSegments":["nope"]}}]}""", "rules[0].criteria.appSegments[0]")]
    public async Task A_rule_that_is_not_an_access_rule_is_refused_by_field_and_the_old_policy_stays(string body, string field)
    {
        var good = new PolicyDocument([new PolicyRuleSpec { Name = "keep", Action = "allow", Criteria = new() { AppSegments = ["wiki"] } }]);
        (await _client.PutAsJsonAsync("access-policy", good, PortalServer.Json)).EnsureSuccessStatusCode();

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var problem = await Problem.ReadAsync(await _client.PutAsync("access-policy", content), HttpStatusCode.BadRequest);

        Assert.Equal(field, problem.Field);
        Assert.Equal(["keep"], (await _client.GetFromJsonAsync<List<PolicyRuleDto>>("access-policy", PortalServer.Json))!.Select(r => r.Rule.Name));
    }

    [Fact]
    public async Task Server_groups_are_checked_stored_and_guarded_while_a_segment_uses_them()
    {
        var refused = await _client.PostAsJsonAsync("server-groups", new ServerGroupRequest("web", Servers: ["web-1.corp.example"], HealthCheck: "icmp"), PortalServer.Json);
        Assert.Equal("healthCheck", (await Problem.ReadAsync(refused, HttpStatusCode.BadRequest)).Field);
        refused = await _client.PostAsJsonAsync("server-groups", new ServerGroupRequest("web", Servers: []), PortalServer.Json);
        Assert.Equal("servers", (await Problem.ReadAsync(refused, HttpStatusCode.BadRequest)).Field);
        refused = await _client.PostAsJsonAsync("server-groups", new ServerGroupRequest("web", Servers: ["*.corp.example"]), PortalServer.Json);
        Assert.Equal("servers[0]", (await Problem.ReadAsync(refused, HttpStatusCode.BadRequest)).Field);
        refused = await _client.PostAsJsonAsync("server-groups", new ServerGroupRequest("web", Servers: ["web-1.corp.example"], HealthCheck: "http", HealthPath: "healthz"), PortalServer.Json);
        Assert.Equal("healthPath", (await Problem.ReadAsync(refused, HttpStatusCode.BadRequest)).Field);

        var group = await CreateAsync<ServerGroupDto>("server-groups", new ServerGroupRequest("web", Servers: ["Web-1.Corp.Example", "10.0.0.5", "10.0.0.5"], HealthCheck: "http", HealthPath: "/healthz"));
        Assert.Equal(["web-1.corp.example", "10.0.0.5"], group.Servers);
        Assert.Equal(("http", "/healthz"), (group.HealthCheck, group.HealthPath));

        var segment = await CreateAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("web", Domains: ["web.corp.example"], Ports: ["80"], ServerGroupIds: [group.Id]));
        Assert.Equal([group.Id], segment.ServerGroupIds);
        var problem = await Problem.ReadAsync(await _client.DeleteAsync($"server-groups/{group.Id}"), HttpStatusCode.Conflict);
        Assert.Contains("web", problem.Detail, StringComparison.Ordinal);

        var unknown = await _client.PostAsJsonAsync("app-segments", new AppSegmentRequest("x", Domains: ["x.corp.example"], Ports: ["80"], ServerGroupIds: [Guid.NewGuid()]), PortalServer.Json);
        Assert.Equal("serverGroupIds[0]", (await Problem.ReadAsync(unknown, HttpStatusCode.BadRequest)).Field);
    }

    [Fact]
    public async Task Only_a_connector_certificate_may_report_connector_status()
    {
        var anonymous = await _client.PostAsJsonAsync("connector/status", new Gatehouse.Wire.Tunnel.ConnectorStatusReport("x", "1", 0, [], []), PortalServer.Json);
        Assert.True(anonymous.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"an admin session got {(int)anonymous.StatusCode}");
    }

    [Fact]
    public async Task What_an_access_rule_names_cannot_be_renamed_disabled_or_deleted_and_the_policy_still_imports()
    {
        // Each of these was accepted: a renamed group silently turned a block rule off, and a removed segment made every
        // edge refuse the next bundle (the old policy stayed in force on them, revoked credentials included).
        const string yaml = """
            rules:
              - name: no-engineering-wiki
                action: block
                criteria: { groups: [engineering], appSegments: [wiki] }
              - name: business
                action: allow
                criteria: { segmentGroups: [business] }
            """;
        using (var content = new StringContent(yaml, Encoding.UTF8, "application/yaml"))
        {
            (await _client.PutAsync("access-policy", content)).EnsureSuccessStatusCode();
        }

        var groups = await _client.GetFromJsonAsync<Page<GroupDto>>("groups", PortalServer.Json);
        var engineering = groups!.Items.Single(g => g.Name == "engineering");
        var segmentGroups = await _client.GetFromJsonAsync<Page<SegmentGroupDto>>("segment-groups", PortalServer.Json);
        var business = segmentGroups!.Items.Single(g => g.Name == "business");
        var wiki = (await _client.GetFromJsonAsync<Page<AppSegmentDto>>("app-segments", PortalServer.Json))!.Items.Single(s => s.Name == "wiki");

        var answers = new Dictionary<string, HttpResponseMessage>
        {
            ["rename group"] = await _client.PatchAsJsonAsync($"groups/{engineering.Id}", new UpdateGroupRequest("engineers"), PortalServer.Json),
            ["delete group"] = await _client.DeleteAsync($"groups/{engineering.Id}"),
            ["rename segment group"] = await _client.PutAsJsonAsync($"segment-groups/{business.Id}", new NamedObjectRequest("business-renamed"), PortalServer.Json),
            ["rename segment"] = await _client.PutAsJsonAsync($"app-segments/{wiki.Id}", new AppSegmentRequest("wiki-renamed", Domains: ["wiki.corp.example"], Ports: ["443"], SegmentGroupId: business.Id), PortalServer.Json),
            ["disable segment"] = await _client.PutAsJsonAsync($"app-segments/{wiki.Id}", new AppSegmentRequest("wiki", Enabled: false, Domains: ["wiki.corp.example"], Ports: ["443"], SegmentGroupId: business.Id), PortalServer.Json),
            ["delete segment"] = await _client.DeleteAsync($"app-segments/{wiki.Id}"),
        };

        foreach (var (what, answer) in answers)
        {
            Assert.True(answer.StatusCode == HttpStatusCode.Conflict, $"{what}: {answer.StatusCode}");
            Assert.Contains("the access rule '", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var again = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        Assert.Equal(HttpStatusCode.OK, (await _client.PutAsync("access-policy", again)).StatusCode);
    }

    [Fact]
    public async Task A_connector_group_that_a_key_or_a_connector_still_uses_cannot_be_deleted()
    {
        var group = await CreateAsync<ConnectorGroupDto>("connector-groups", new NamedObjectRequest("paris"));
        var key = await CreateAsync<CreateProvisioningKeyResponse>("provisioning-keys", new CreateProvisioningKeyRequest("paris-key", ProvisioningKinds.Connector, group.Id));

        var refused = await _client.DeleteAsync($"connector-groups/{group.Id}");
        (await _client.DeleteAsync($"provisioning-keys/{key.ProvisioningKey.Id}")).EnsureSuccessStatusCode();
        var deleted = await _client.DeleteAsync($"connector-groups/{group.Id}");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("the provisioning key 'paris-key' (revoke it first)", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    private async Task<T> CreateAsync<T>(string path, object request)
    {
        var response = await _client.PostAsJsonAsync(path, request, PortalServer.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<T>(PortalServer.Json))!;
    }
}
