using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Portal.Tests.AppSegments;

public sealed class AppSegmentTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _client = await _portal.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task Segment_is_stored_normalised_with_its_groups()
    {
        var segmentGroup = await CreateAsync<SegmentGroupDto>("segment-groups", new NamedObjectRequest("internal", "Internal apps"));
        var connectors = await CreateAsync<ConnectorGroupDto>("connector-groups", new NamedObjectRequest("dc-paris"));
        var segment = await CreateAsync<AppSegmentDto>("app-segments", new AppSegmentRequest(
            "wiki", Domains: ["Wiki.Corp.example", "*.wiki.corp.example"], Cidrs: ["10.2.0.7"], Ports: ["443", "8000-8080"], SegmentGroupId: segmentGroup.Id, ConnectorGroupIds: [connectors.Id]));
        Assert.Equal(["wiki.corp.example", "*.wiki.corp.example"], segment.Domains);
        Assert.Equal(["10.2.0.7/32"], segment.Cidrs);
        Assert.True(segment.Enabled);
        Assert.Equal([connectors.Id], segment.ConnectorGroupIds);

        var updated = await _client.PutAsJsonAsync($"app-segments/{segment.Id}", new AppSegmentRequest("wiki", Enabled: false, Cidrs: ["10.2.0.0/16"], Ports: ["22"]), PortalServer.Json);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var stored = (await _client.GetFromJsonAsync<AppSegmentDto>($"app-segments/{segment.Id}", PortalServer.Json))!;
        Assert.False(stored.Enabled);
        Assert.Empty(stored.Domains);
        Assert.Null(stored.SegmentGroupId);
    }

    [Fact]
    public async Task Segment_without_ports_is_refused_naming_ports()
    {
        var response = await _client.PostAsJsonAsync("app-segments", new AppSegmentRequest("no-ports", Domains: ["a.example"], Ports: []), PortalServer.Json);
        Assert.Equal("ports", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);

        using var content = new StringContent("""{"name": "no-ports", "domains": ["a.example"]}""", Encoding.UTF8, "application/json");
        Assert.Equal("ports", (await Problem.ReadAsync(await _client.PostAsync("app-segments", content), HttpStatusCode.BadRequest)).Field);

        response = await _client.PostAsJsonAsync("app-segments", new AppSegmentRequest("bad-port", Domains: ["a.example"], Ports: ["443", "70000"]), PortalServer.Json);
        Assert.Equal("ports[1]", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);

        response = await _client.PostAsJsonAsync("app-segments", new AppSegmentRequest("nothing", Ports: ["443"]), PortalServer.Json);
        Assert.Equal("domains", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);
        Assert.Empty((await _client.GetFromJsonAsync<Page<AppSegmentDto>>("app-segments", PortalServer.Json))!.Items);
    }

    [Fact]
    public async Task Unknown_groups_are_refused_by_field()
    {
        var response = await _client.PostAsJsonAsync("app-segments", new AppSegmentRequest("x", Domains: ["a.example"], Ports: ["443"], ConnectorGroupIds: [Guid.NewGuid()]), PortalServer.Json);
        Assert.Equal("connectorGroupIds[0]", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);

        response = await _client.PostAsJsonAsync("app-segments", new AppSegmentRequest("x", Domains: ["a.example"], Ports: ["443"], SegmentGroupId: Guid.NewGuid()), PortalServer.Json);
        Assert.Equal("segmentGroupId", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);

        // Another tenant's connector group does not exist for this one.
        var (_, other, _, _) = await _portal.CreateTenantAsync("other");
        using (other)
        {
            var theirs = await CreateAsync<ConnectorGroupDto>("connector-groups", new NamedObjectRequest("theirs"), other);
            response = await _client.PostAsJsonAsync("app-segments", new AppSegmentRequest("x", Domains: ["a.example"], Ports: ["443"], ConnectorGroupIds: [theirs.Id]), PortalServer.Json);
            Assert.Equal("connectorGroupIds[0]", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);
        }
    }

    [Fact]
    public async Task Groups_used_by_segments_cannot_be_deleted()
    {
        var segmentGroup = await CreateAsync<SegmentGroupDto>("segment-groups", new NamedObjectRequest("internal"));
        var connectors = await CreateAsync<ConnectorGroupDto>("connector-groups", new NamedObjectRequest("dc"));
        var segment = await CreateAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("wiki", Domains: ["wiki.corp.example"], Ports: ["443"], SegmentGroupId: segmentGroup.Id, ConnectorGroupIds: [connectors.Id]));

        var problem = await Problem.ReadAsync(await _client.DeleteAsync($"segment-groups/{segmentGroup.Id}"), HttpStatusCode.Conflict);
        Assert.Contains("wiki", problem.Detail, StringComparison.Ordinal);
        await Problem.ReadAsync(await _client.DeleteAsync($"connector-groups/{connectors.Id}"), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"app-segments/{segment.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"segment-groups/{segmentGroup.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"connector-groups/{connectors.Id}")).StatusCode);
    }

    [Fact]
    public async Task Segment_named_by_a_rule_cannot_be_deleted_or_renamed()
    {
        var segment = await CreateAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("crm", Domains: ["crm.corp.example"], Ports: ["443"]));
        var rule = new PolicyRuleSpec { Name = "sales-crm", Action = PolicyActions.Allow, Criteria = new() { AppSegments = ["crm"] } };
        (await _client.PostAsJsonAsync("policy/rules", rule, PortalServer.Json)).EnsureSuccessStatusCode();

        Assert.Contains("sales-crm", (await Problem.ReadAsync(await _client.DeleteAsync($"app-segments/{segment.Id}"), HttpStatusCode.Conflict)).Detail, StringComparison.Ordinal);
        var rename = await _client.PutAsJsonAsync($"app-segments/{segment.Id}", new AppSegmentRequest("crm2", Domains: ["crm.corp.example"], Ports: ["443"]), PortalServer.Json);
        await Problem.ReadAsync(rename, HttpStatusCode.Conflict);
        Assert.Equal("crm", (await _client.GetFromJsonAsync<AppSegmentDto>($"app-segments/{segment.Id}", PortalServer.Json))!.Name);
    }

    private async Task<T> CreateAsync<T>(string path, object request, HttpClient? client = null)
    {
        var response = await (client ?? _client).PostAsJsonAsync(path, request, PortalServer.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<T>(PortalServer.Json))!;
    }
}
