using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Config;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Config;

public sealed class BundleContributorTests : IAsyncLifetime
{
    private const string Policy = """
        rules:
          - name: block-gambling
            action: block
            criteria: { categories: [gambling], groups: [staff] }
          - name: switched-off
            action: allow
            enabled: false
            criteria: { domains: [off.example] }
          - name: crm-for-sales
            action: allow
            criteria: { appSegments: [crm], users: [bob@example.test] }
            inspect: [log-full-url]
        """;

    private PortalServer _portal = null!;
    private HttpClient _client = null!;
    private Guid _tenantId;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _client = await _portal.SignInAsync();
        var staff = await PostAsync<GroupDto>("groups", new CreateGroupRequest("staff", null));
        await PostAsync<UserDto>("users", new CreateUserRequest("bob@example.test", null, [staff.Id]));
        await PostAsync<UserDto>("users", new CreateUserRequest("alice@example.test", null, null));
        await PostAsync<UrlCategoryDto>("categories", new CreateUrlCategoryRequest("gambling", Domains: ["casino.example", "bet.example"]));
        await PostAsync<UrlCategoryDto>("categories", new CreateUrlCategoryRequest("ads", Domains: ["ads.example"]));
        var segmentGroup = await PostAsync<SegmentGroupDto>("segment-groups", new NamedObjectRequest("business"));
        var dc = await PostAsync<ConnectorGroupDto>("connector-groups", new NamedObjectRequest("dc"));
        await PostAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("wiki", Domains: ["wiki.corp.example"], Ports: ["443"], ConnectorGroupIds: [dc.Id]));
        await PostAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("crm", Cidrs: ["10.9.0.0/16"], Ports: ["443", "8443"], SegmentGroupId: segmentGroup.Id, ConnectorGroupIds: [dc.Id]));
        await PostAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("retired", Enabled: false, Domains: ["old.corp.example"], Ports: ["80"]));
        var forwarding = await PostAsync<ForwardingProfileDto>("forwarding-profiles", new ForwardingProfileRequest("office", "none", "tunnel", "tunnel"));
        await PostAsync<AppProfileDto>("app-profiles", new AppProfileRequest("everyone", Priority: 500, FailMode: "open", ForwardingProfileId: forwarding.Id));
        await PostAsync<AppProfileDto>("app-profiles", new AppProfileRequest("staff", Priority: 10, GroupIds: [staff.Id], FailMode: "closed", LogoutPassword: "staff-logout-pw"));
        using var content = new StringContent(Policy, Encoding.UTF8, "application/yaml");
        (await _client.PutAsync("policy", content)).EnsureSuccessStatusCode();
        _tenantId = (await _client.GetFromJsonAsync<WhoAmIResponse>("auth/whoami", PortalServer.Json))!.TenantId;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _portal.DisposeAsync();
    }

    [Theory]
    [InlineData("edge")]
    [InlineData("agent")]
    [InlineData("connector")]
    public async Task Contributions_are_the_same_bytes_every_time(string consumer)
    {
        var first = await BuildAsync(consumer);
        var second = await BuildAsync(consumer);
        Assert.Equal(first.ToJsonString(), second.ToJsonString());
        Assert.NotEqual("{}", first.ToJsonString());
    }

    [Fact]
    public async Task Edge_gets_enabled_rules_in_order_with_categories_segments_and_users()
    {
        var edge = await BuildAsync("edge");
        Assert.Equal(["block-gambling", "crm-for-sales"], edge["policy"]!.AsArray().Select(r => (string)r!["name"]!));
        Assert.Equal("block", (string)edge["policy"]![0]!["action"]!);
        Assert.Equal("gambling", (string)edge["policy"]![0]!["criteria"]!["categories"]![0]!);
        Assert.Equal("log-full-url", (string)edge["policy"]![1]!["inspect"]![0]!);

        Assert.Equal(["ads", "gambling"], edge["categories"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["bet.example", "casino.example"], edge["categories"]!["gambling"]!.AsArray().Select(d => (string)d!));

        var segments = edge["appSegments"]!.AsArray();
        Assert.Equal(["crm", "wiki"], segments.Select(s => (string)s!["name"]!));
        Assert.Equal("business", (string)segments[0]!["segmentGroup"]!);
        Assert.Single(segments[0]!["connectorGroupIds"]!.AsArray());

        var users = edge["users"]!.AsArray();
        Assert.Equal(["alice@example.test", "bob@example.test"], users.Select(u => (string)u!["email"]!));
        Assert.Empty(edge["accessPolicy"]!.AsArray());
        Assert.Empty(edge["connectors"]!.AsArray());
        Assert.Equal("staff", (string)users[1]!["groups"]![0]!);
        Assert.Null(edge["forwardingProfiles"]);
    }

    [Fact]
    public async Task Agent_gets_segments_and_profiles_by_priority_with_password_hashes()
    {
        var agent = await BuildAsync("agent");
        Assert.Null(agent["policy"]);
        Assert.Null(agent["users"]);
        var segments = agent["appSegments"]!.AsArray();
        Assert.Equal(["crm", "wiki"], segments.Select(s => (string)s!["name"]!));
        Assert.Null(segments[0]!["connectorGroupIds"]);

        var profiles = agent["appProfiles"]!.AsArray();
        Assert.Equal(["staff", "everyone"], profiles.Select(p => (string)p!["name"]!));
        Assert.True(Trust.Secrets.PasswordHasher.Verify("staff-logout-pw", (string)profiles[0]!["logoutPasswordHash"]!));
        Assert.Equal("office", (string)profiles[1]!["forwardingProfile"]!);
        Assert.Equal("office", (string)agent["forwardingProfiles"]![0]!["name"]!);
    }

    [Fact]
    public async Task Connector_gets_segments_with_their_connector_groups_only()
    {
        var connector = await BuildAsync("connector");
        Assert.Equal(["appSegments", "connectors", "edges", "tenant"], connector.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.All(connector["appSegments"]!.AsArray(), s => Assert.Single(s!["connectorGroupIds"]!.AsArray()));
    }

    [Fact]
    public async Task Edge_gets_the_access_policy_with_segment_groups_published_as_their_segments()
    {
        var document = new Gatehouse.Wire.Policy.PolicyDocument(
        [
            new() { Name = "staff-business", Action = "allow", Criteria = new() { Groups = ["staff"], SegmentGroups = ["business"], AppSegments = ["wiki"] } },
            new() { Name = "nobody-else", Action = "block", Criteria = new() { AppSegments = ["wiki"] } },
        ]);
        (await _client.PutAsJsonAsync("access-policy", document, PortalServer.Json)).EnsureSuccessStatusCode();

        var access = (await BuildAsync("edge"))["accessPolicy"]!.AsArray();

        Assert.Equal(["staff-business", "nobody-else"], access.Select(r => (string)r!["name"]!));
        Assert.Equal(["wiki", "crm"], access[0]!["criteria"]!["appSegments"]!.AsArray().Select(s => (string)s!));
        Assert.Null(access[0]!["criteria"]!["segmentGroups"]);
        Assert.Null((await BuildAsync("agent"))["accessPolicy"]);
    }

    private async Task<JsonObject> BuildAsync(string consumer)
    {
        using var scope = _portal.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var body = new JsonObject();
        foreach (var contributor in scope.ServiceProvider.GetServices<IBundleContributor>())
        {
            await contributor.ContributeAsync(db, _tenantId, consumer, body, CancellationToken.None);
        }

        // Round-trip through text so that the caller compares what would be signed.
        return JsonNode.Parse(body.ToJsonString(new JsonSerializerOptions { WriteIndented = false }))!.AsObject();
    }

    private async Task<T> PostAsync<T>(string path, object request)
    {
        var response = await _client.PostAsJsonAsync(path, request, PortalServer.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<T>(PortalServer.Json))!;
    }
}
