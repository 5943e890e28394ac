using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Policies;

public sealed class PolicyImportTests : IAsyncLifetime
{
    /// <summary>Every action and every criterion, written loosely (mixed case, bare addresses, unquoted ports).</summary>
    private const string FullPolicyYaml = """
        rules:
          - name: block-bad
            action: block
            description: Known bad sites
            criteria:
              categories: [malware]
              domains: ["*.Evil.example", bad.example.]
          - name: caution-social
            action: caution
            criteria:
              groups: [engineering]
              users: [Alice@Example.test]
              networks: [untrusted, vpn]
              posture: [disk-encrypted, "os:linux"]
              protocols: [https, http]
              schedule: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:30", timeZone: Europe/Paris }
          - name: allow-intranet
            action: allow
            enabled: false
            criteria:
              appSegments: [intranet]
              cidrs: [10.1.2.3, 10.0.0.0/8, "2001:db8::/32"]
              ports: [443, 8000-8080]
            inspect: [log-full-url, tls-inspect, dlp, sandbox]
          - name: allow-rest
            action: allow
        """;

    private PortalServer _portal = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _client = await _portal.SignInAsync();
        var group = await _client.PostAsJsonAsync("groups", new CreateGroupRequest("engineering", null));
        group.EnsureSuccessStatusCode();
        (await _client.PostAsJsonAsync("users", new CreateUserRequest("alice@example.test", null, null))).EnsureSuccessStatusCode();
        (await _client.PostAsJsonAsync("categories", new CreateUrlCategoryRequest("malware", null, null, ["evil.example"]))).EnsureSuccessStatusCode();
        (await _client.PostAsJsonAsync("app-segments", new AppSegmentRequest("intranet", null, null, ["intranet.corp.example"], null, ["443"], null, null))).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task Importing_an_empty_policy_publishes_a_bundle_without_the_old_rules()
    {
        var rule = new PolicyDocument([new PolicyRuleSpec { Name = "block-x", Action = "block", Criteria = new() { Domains = ["x.example"] } }]);
        (await _client.PutAsJsonAsync("policy", rule, PortalServer.Json)).EnsureSuccessStatusCode();
        var tenant = (await _client.GetFromJsonAsync<WhoAmIResponse>("auth/whoami", PortalServer.Json))!.TenantId;
        var publisher = _portal.Services.GetRequiredService<Gatehouse.Portal.Config.ConfigPublisher>();
        await publisher.SettledAsync(tenant, TimeSpan.FromSeconds(10), CancellationToken.None);
        var before = await publisher.CurrentAsync(tenant, "edge", TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Contains("block-x", Encoding.UTF8.GetString(before!.Document), StringComparison.Ordinal);

        (await _client.PutAsJsonAsync("policy", new PolicyDocument([]), PortalServer.Json)).EnsureSuccessStatusCode();
        await publisher.SettledAsync(tenant, TimeSpan.FromSeconds(10), CancellationToken.None);

        var after = await publisher.CurrentAsync(tenant, "edge", TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.True(after!.Version > before.Version, $"the edge bundle stayed at v{before.Version} after the policy was emptied");
        Assert.DoesNotContain("block-x", Encoding.UTF8.GetString(after.Document), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Yaml_policy_with_every_criterion_survives_export_and_import_unchanged()
    {
        var first = await ImportAsync(FullPolicyYaml, "application/yaml");
        Assert.Equal(["block-bad", "caution-social", "allow-intranet", "allow-rest"], first.Select(r => r.Rule.Name));
        Assert.Equal([0, 1, 2, 3], first.Select(r => r.Order));

        // Stored normalised: lower-case domains and emails, canonical networks, ports as text.
        var block = first[0].Rule;
        Assert.Equal(["*.evil.example", "bad.example"], block.Criteria.Domains!);
        Assert.Equal(["alice@example.test"], first[1].Rule.Criteria.Users!);
        Assert.Equal("Europe/Paris", first[1].Rule.Criteria.Schedule!.TimeZone);
        Assert.Equal(["10.1.2.3/32", "10.0.0.0/8", "2001:db8::/32"], first[2].Rule.Criteria.Cidrs!);
        Assert.Equal(["443", "8000-8080"], first[2].Rule.Criteria.Ports!);
        Assert.False(first[2].Rule.Enabled);

        var export = await _client.GetAsync("policy/export");
        Assert.Equal("application/yaml", export.Content.Headers.ContentType?.MediaType);
        var yaml = await export.Content.ReadAsStringAsync();

        var second = await ImportAsync(yaml, "application/yaml");
        Assert.Equal(Specs(first), Specs(second));
        Assert.Equal(yaml, await _client.GetStringAsync("policy/export?format=yaml"));
    }

    [Fact]
    public async Task Json_export_imports_again_to_the_same_rules()
    {
        var first = await ImportAsync(FullPolicyYaml, "text/yaml");
        var export = await _client.GetAsync("policy/export?format=json");
        Assert.Equal("application/json", export.Content.Headers.ContentType?.MediaType);
        var json = await export.Content.ReadAsStringAsync();

        var second = await ImportAsync(json, "application/json");
        Assert.Equal(Specs(first), Specs(second));
        Assert.Equal(Specs(first), Specs(await GetPolicyAsync()));
    }

    public static TheoryData<string, string, string> BadDocuments => new()
    {
        // A bad CIDR in rule 3 (0-based), after three good rules.
        { "application/json", Json(Rules(3, new { name = "r3", action = "allow", criteria = new { cidrs = new[] { "10.0.0.0/8", "10.0.0.300/8" } } })), "rules[3].criteria.cidrs[1]" },
        // Read as octal by IPAddress.Parse (8.1.2.0/24), it was stored rewritten and blocked another network.
        { "application/json", Json(Rules(1, new { name = "r1", action = "block", criteria = new { cidrs = new[] { "010.001.002.000/24" } } })), "rules[1].criteria.cidrs[0]" },
        { "application/yaml", "rules:\n  - name: a\n    action: block\n    criteria:\n      cidrs: [\"10.1/16\"]\n", "rules[0].criteria.cidrs[0]" },
        { "application/json", Json(Rules(1, new { name = "r1", action = "allow", criteria = new { groups = new[] { "engineering", "nobody" } } })), "rules[1].criteria.groups[1]" },
        { "application/json", Json(Rules(2, new { name = "r2", action = "block", criteria = new { domains = new[] { "ok.example", "bad_domain..example" } } })), "rules[2].criteria.domains[1]" },
        { "application/json", Json(Rules(2, new { name = "r2", action = "block", criteria = new { colour = "red" } })), "rules[2].criteria.colour" },
        { "application/json", Json(Rules(1, new { name = "r0", action = "allow" })), "rules[1].name" },
        { "application/json", Json(Rules(0, new { name = "r0", action = "deny" })), "rules[0].action" },
        { "application/json", Json(Rules(1, new { name = "r1", action = "allow", criteria = new { schedule = new { days = new[] { "mon" }, from = "18:00", to = "08:00" } } })), "rules[1].criteria.schedule.to" },
        { "application/json", Json(Rules(1, new { name = "r1", action = "allow", criteria = new { schedule = new { days = new[] { "mon" }, from = "08:00", to = "18:00", timeZone = "Mars/Olympus" } } })), "rules[1].criteria.schedule.timeZone" },
        { "application/yaml", "rules:\n  - name: a\n    action: allow\n  - name: b\n    action: allow\n    criteria:\n      appSegments: [nowhere]\n", "rules[1].criteria.appSegments[0]" },
        { "application/yaml", "rules:\n  - name: a\n    action: allow\n    criteria:\n      ports: [\"0\"]\n", "rules[0].criteria.ports[0]" },
        { "application/yaml", "rules:\n  - name: a\n    action: allow\n    inspect: [x-ray]\n", "rules[0].inspect[0]" },
        { "application/yaml", "rules:\n  - name: a\n    action: allow\n    extra: 1\n", "rules[0].extra" },
        // A number past a double's range was read as infinity, which no JSON holds: a 500.
        { "application/yaml", "rules:\n  - name: a\n    action: block\n    criteria:\n      ports: [1e400]\n", "rules[0].criteria.ports[0]" },
        { "application/yaml", "rules:\n  - name: a\n    action: allow\n    enabled: -1e400\n", "rules[0].enabled" },
        { "application/json", """{"rules": [{"name": "a", "action": "allow"}], "version": 2}""", "version" },
    };

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public async Task Policy_with_one_bad_rule_is_refused_with_its_path_and_changes_nothing(string contentType, string body, string field)
    {
        var before = await ImportAsync(FullPolicyYaml, "application/yaml");
        var audits = await AuditCountAsync();

        var problem = await Problem.ReadAsync(await PutAsync(body, contentType), HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.Field);

        Assert.Equal(Specs(before), Specs(await GetPolicyAsync()));
        Assert.Equal(audits, await AuditCountAsync());
    }

    [Fact]
    public async Task Yaml_syntax_error_names_the_line_and_changes_nothing()
    {
        var before = await ImportAsync(FullPolicyYaml, "application/yaml");
        var audits = await AuditCountAsync();

        var problem = await Problem.ReadAsync(await PutAsync("rules:\n  - name: a\n    action: allow\n    criteria: { domains: [a.example }\n", "application/yaml"), HttpStatusCode.BadRequest);
        Assert.Equal("$", problem.Field);
        Assert.Contains("line 4", problem.Detail, StringComparison.Ordinal);

        Assert.Equal(Specs(before), Specs(await GetPolicyAsync()));
        Assert.Equal(audits, await AuditCountAsync());
    }

    [Fact]
    public async Task Yaml_aliases_are_refused()
    {
        var problem = await Problem.ReadAsync(await PutAsync("rules:\n  - &r { name: a, action: allow }\n  - *r\n", "application/yaml"), HttpStatusCode.BadRequest);
        Assert.Contains("line 3", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem_and_changes_nothing()
    {
        var before = await ImportAsync(FullPolicyYaml, "application/yaml");
        var problem = await Problem.ReadAsync(await PutAsync("""{"rules": [{"name": "a", "action": """, "application/json"), HttpStatusCode.BadRequest);
        Assert.NotNull(problem.Field);
        Assert.Equal(Specs(before), Specs(await GetPolicyAsync()));
    }

    [Fact]
    public async Task Body_over_the_policy_document_limit_is_a_413_problem_and_changes_nothing()
    {
        var before = await ImportAsync(FullPolicyYaml, "application/yaml");
        var audits = await AuditCountAsync();
        var rules = Enumerable.Range(0, 160_000).Select(i => new { name = $"rule-{i:D6}", action = "allow", description = "padding to pass the body size limit" });
        var body = JsonSerializer.Serialize(new { rules });
        Assert.True(body.Length > Gatehouse.Portal.Policies.PolicyDocumentReader.MaxDocumentBytes);

        // With Expect: 100-continue the client waits for the verdict instead of racing the server's early 413 with its upload.
        await Problem.ReadAsync(await PutAsync(body, "application/json", expectContinue: true), HttpStatusCode.RequestEntityTooLarge);
        await Problem.ReadAsync(await PutAsync(body, "application/yaml", expectContinue: true), HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal(Specs(before), Specs(await GetPolicyAsync()));
        Assert.Equal(audits, await AuditCountAsync());
    }

    [Fact]
    public async Task Import_is_audited_once_with_rule_counts_and_names()
    {
        await ImportAsync(FullPolicyYaml, "application/yaml");
        await ImportAsync("""{"rules": [{"name": "only", "action": "block"}]}""", "application/json");

        var page = await _client.GetFromJsonAsync<Page<AuditEntryDto>>("audit?action=policy.import", PortalServer.Json);
        Assert.Equal(2, page!.Items.Count);
        var last = page.Items.OrderBy(e => e.At).ThenBy(e => e.Id).Last();
        using var before = JsonDocument.Parse(last.Before!);
        using var after = JsonDocument.Parse(last.After!);
        Assert.Equal(4, before.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(1, after.RootElement.GetProperty("count").GetInt32());
        Assert.Equal("only", after.RootElement.GetProperty("names")[0].GetString());
    }

    [Fact]
    public async Task Single_rules_keep_the_order_dense()
    {
        await ImportAsync(FullPolicyYaml, "application/yaml");
        var created = await _client.PostAsJsonAsync("policy/rules?position=1", new PolicyRuleSpec { Name = "inserted", Action = PolicyActions.Block, Criteria = new() { Domains = ["X.example"] } }, PortalServer.Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var rule = (await created.Content.ReadFromJsonAsync<PolicyRuleDto>(PortalServer.Json))!;
        Assert.Equal(1, rule.Order);
        Assert.Equal(["x.example"], rule.Rule.Criteria.Domains!);

        var policy = await GetPolicyAsync();
        Assert.Equal(["block-bad", "inserted", "caution-social", "allow-intranet", "allow-rest"], policy.Select(r => r.Rule.Name));
        Assert.Equal([0, 1, 2, 3, 4], policy.Select(r => r.Order));

        var appended = await _client.PostAsJsonAsync("policy/rules", new PolicyRuleSpec { Name = "last", Action = PolicyActions.Allow }, PortalServer.Json);
        Assert.Equal(5, (await appended.Content.ReadFromJsonAsync<PolicyRuleDto>(PortalServer.Json))!.Order);

        var updated = await _client.PutAsJsonAsync($"policy/rules/{rule.Id}", new PolicyRuleSpec { Name = "inserted", Action = PolicyActions.Caution }, PortalServer.Json);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal(PolicyActions.Caution, (await _client.GetFromJsonAsync<PolicyRuleDto>($"policy/rules/{rule.Id}", PortalServer.Json))!.Rule.Action);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"policy/rules/{policy[0].Id}")).StatusCode);
        policy = await GetPolicyAsync();
        Assert.Equal(["inserted", "caution-social", "allow-intranet", "allow-rest", "last"], policy.Select(r => r.Rule.Name));
        Assert.Equal([0, 1, 2, 3, 4], policy.Select(r => r.Order));
    }

    [Fact]
    public async Task Single_rule_errors_name_the_field_without_a_rules_prefix()
    {
        var response = await _client.PostAsJsonAsync("policy/rules", new PolicyRuleSpec { Name = "x", Action = "allow", Criteria = new() { Domains = ["ok.example", "not a domain"] } }, PortalServer.Json);
        Assert.Equal("criteria.domains[1]", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);

        response = await _client.PostAsJsonAsync("policy/rules?position=7", new PolicyRuleSpec { Name = "x", Action = "allow" }, PortalServer.Json);
        Assert.Equal("position", (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Field);

        await ImportAsync(FullPolicyYaml, "application/yaml");
        response = await _client.PostAsJsonAsync("policy/rules", new PolicyRuleSpec { Name = "allow-rest", Action = "allow" }, PortalServer.Json);
        await Problem.ReadAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Read_only_token_cannot_import()
    {
        using var reader = await _portal.TokenClientAsync(scopes: TokenScopes.Read);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("policy")).StatusCode);
        using var content = new StringContent("""{"rules": []}""", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PutAsync("policy", content)).StatusCode);
    }

    private async Task<HttpResponseMessage> PutAsync(string body, string contentType, bool expectContinue = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "policy") { Content = new StringContent(body, Encoding.UTF8, contentType) };
        request.Headers.ExpectContinue = expectContinue;
        return await _client.SendAsync(request);
    }

    private async Task<List<PolicyRuleDto>> ImportAsync(string body, string contentType)
    {
        var response = await PutAsync(body, contentType);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<List<PolicyRuleDto>>(PortalServer.Json))!;
    }

    private async Task<List<PolicyRuleDto>> GetPolicyAsync() => (await _client.GetFromJsonAsync<List<PolicyRuleDto>>("policy", PortalServer.Json))!;

    private async Task<int> AuditCountAsync() => (await _client.GetFromJsonAsync<Page<AuditEntryDto>>("audit?limit=500", PortalServer.Json))!.Items.Count;

    /// <summary>The rules as JSON text: records holding lists compare by reference, their JSON by content.</summary>
    private static string Specs(IEnumerable<PolicyRuleDto> rules) => JsonSerializer.Serialize(rules.Select(r => r.Rule), PortalServer.Json);

    /// <summary>Good rules r0..r(n-1) with <paramref name="bad"/> at position <paramref name="at"/>.</summary>
    private static object[] Rules(int at, object bad) =>
        [.. Enumerable.Range(0, at).Select(i => (object)new { name = $"r{i}", action = "allow", criteria = new { domains = new[] { $"r{i}.example" } } }), bad, new { name = "tail", action = "block" }];

    private static string Json(object[] rules) => JsonSerializer.Serialize(new { rules });
}
