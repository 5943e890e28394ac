using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Portal.Tests.Categories;

public sealed class CategoryTests : IAsyncLifetime
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
    public async Task Domains_import_in_three_chunks_with_replace_on_the_first()
    {
        var category = await CreateAsync(new CreateUrlCategoryRequest("ads", "Advertising", "imported", ["old.example", "stale.example"]));
        Assert.Equal(2, category.DomainCount);
        Assert.Equal("imported", category.Source);

        var chunk1 = Enumerable.Range(0, 10_000).Select(i => $"ad{i}.Example").ToList();
        var stopwatch = Stopwatch.StartNew();
        var first = await AddAsync(category.Id, new AddCategoryDomainsRequest(chunk1, Replace: true));
        stopwatch.Stop();
        Assert.Equal(new CategoryDomainsResult(10_000, 10_000), first);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"10,000 domains took {stopwatch.Elapsed}.");

        // Half already present, plus a duplicate within the chunk: both ignored.
        var chunk2 = Enumerable.Range(5_000, 9_999).Select(i => $"ad{i}.example").Append("AD14998.example").ToList();
        Assert.Equal(10_000, chunk2.Count);
        Assert.Equal(new CategoryDomainsResult(4_999, 14_999), await AddAsync(category.Id, new AddCategoryDomainsRequest(chunk2, Replace: false)));

        var chunk3 = new List<string> { "tracker.example", "ad1.example" };
        Assert.Equal(new CategoryDomainsResult(1, 15_000), await AddAsync(category.Id, new AddCategoryDomainsRequest(chunk3, Replace: false)));

        var stored = await _client.GetFromJsonAsync<UrlCategoryDto>($"categories/{category.Id}", PortalServer.Json);
        Assert.Equal(15_000, stored!.DomainCount);

        var all = new List<string>();
        string? cursor = null;
        do
        {
            var page = (await _client.GetFromJsonAsync<Page<string>>($"categories/{category.Id}/domains?limit=500{(cursor is null ? "" : "&cursor=" + cursor)}", PortalServer.Json))!;
            all.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(15_000, all.Count);
        Assert.Equal(15_000, all.Distinct().Count());
        Assert.DoesNotContain("old.example", all);
        Assert.Contains("ad0.example", all);
        Assert.Contains("tracker.example", all);
    }

    [Fact]
    public async Task Bad_domain_is_named_by_index_and_nothing_is_added()
    {
        var category = await CreateAsync(new CreateUrlCategoryRequest("news", null, null, null));
        var response = await _client.PostAsJsonAsync($"categories/{category.Id}/domains", new AddCategoryDomainsRequest(["a.example", "b.example", "*.wild.example"], false), PortalServer.Json);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("domains[2]", problem.Field);
        Assert.Equal(0, (await _client.GetFromJsonAsync<UrlCategoryDto>($"categories/{category.Id}", PortalServer.Json))!.DomainCount);
        Assert.Empty((await _client.GetFromJsonAsync<Page<string>>($"categories/{category.Id}/domains", PortalServer.Json))!.Items);
    }

    [Fact]
    public async Task More_than_ten_thousand_domains_in_one_call_are_refused()
    {
        var category = await CreateAsync(new CreateUrlCategoryRequest("big", null, null, null));
        var domains = Enumerable.Range(0, 10_001).Select(i => $"d{i}.example").ToList();
        var response = await _client.PostAsJsonAsync($"categories/{category.Id}/domains", new AddCategoryDomainsRequest(domains, false), PortalServer.Json);
        Assert.Equal("domains", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);
    }

    [Fact]
    public async Task Category_used_by_a_rule_cannot_be_deleted()
    {
        var category = await CreateAsync(new CreateUrlCategoryRequest("gambling", null, null, ["bet.example"]));
        var rule = new PolicyRuleSpec { Name = "no-gambling", Action = PolicyActions.Block, Criteria = new() { Categories = ["gambling"] } };
        (await _client.PostAsJsonAsync("policy/rules", rule, PortalServer.Json)).EnsureSuccessStatusCode();

        var problem = await Problem.ReadAsync(await _client.DeleteAsync($"categories/{category.Id}"), HttpStatusCode.Conflict);
        Assert.Contains("no-gambling", problem.Detail, StringComparison.Ordinal);

        (await _client.PutAsJsonAsync("policy", new PolicyDocument([]), PortalServer.Json)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"categories/{category.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"categories/{category.Id}/domains")).StatusCode);
    }

    [Fact]
    public async Task Duplicate_category_name_is_a_conflict()
    {
        await CreateAsync(new CreateUrlCategoryRequest("dup", null, null, null));
        var response = await _client.PostAsJsonAsync("categories", new CreateUrlCategoryRequest("dup", null, null, null), PortalServer.Json);
        Assert.Equal("name", (await Problem.ReadAsync(response, HttpStatusCode.Conflict)).Field);
    }

    [Fact]
    public async Task Another_tenants_category_is_not_found()
    {
        var category = await CreateAsync(new CreateUrlCategoryRequest("private", null, null, ["secret.example"]));
        var (_, other, _, _) = await _portal.CreateTenantAsync("other");
        using (other)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"categories/{category.Id}/domains")).StatusCode);
            var response = await other.PostAsJsonAsync($"categories/{category.Id}/domains", new AddCategoryDomainsRequest(["x.example"], true), PortalServer.Json);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(1, (await _client.GetFromJsonAsync<UrlCategoryDto>($"categories/{category.Id}", PortalServer.Json))!.DomainCount);
    }

    private async Task<UrlCategoryDto> CreateAsync(CreateUrlCategoryRequest request)
    {
        var response = await _client.PostAsJsonAsync("categories", request, PortalServer.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<UrlCategoryDto>(PortalServer.Json))!;
    }

    private async Task<CategoryDomainsResult> AddAsync(Guid id, AddCategoryDomainsRequest request)
    {
        var response = await _client.PostAsJsonAsync($"categories/{id}/domains", request, PortalServer.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<CategoryDomainsResult>(PortalServer.Json))!;
    }
}
