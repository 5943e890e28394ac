using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Portal.Tests.Policies;

public sealed class PolicyExplainTests : IAsyncLifetime
{
    private const string PolicyYaml = """
        rules:
          - name: allow-intranet
            action: allow
            criteria:
              domains: [intranet.example]
          - name: engineering-wiki
            action: allow
            criteria:
              groups: [engineering]
              domains: ["*.wiki.example"]
            inspect: [log-full-url]
          - name: block-gambling
            action: block
            criteria:
              categories: [gambling]
          - name: block-database
            action: block
            criteria:
              cidrs: [10.20.0.0/16]
              ports: [5432]
        """;

    private PortalServer _portal = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _client = await _portal.SignInAsync();
        var group = await _client.PostAsJsonAsync("groups", new CreateGroupRequest("engineering"));
        group.EnsureSuccessStatusCode();
        var groupId = (await group.Content.ReadFromJsonAsync<GroupDto>(PortalServer.Json))!.Id;
        (await _client.PostAsJsonAsync("users", new CreateUserRequest("alice@example.test", "Alice", [groupId]))).EnsureSuccessStatusCode();
        (await _client.PostAsJsonAsync("users", new CreateUserRequest("bob@example.test", "Bob"))).EnsureSuccessStatusCode();
        (await _client.PostAsJsonAsync("categories", new CreateUrlCategoryRequest("gambling", null, null, ["casino.example"]))).EnsureSuccessStatusCode();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    public async Task Categorised_host_is_blocked_by_the_category_rule_and_earlier_rules_say_why_they_did_not_match()
    {
        await ImportAsync(PolicyYaml);

        var answer = await ExplainAsync(new PolicyExplainRequest(Host: "www.casino.example", Port: 443, Protocol: "https"));

        Assert.Equal("block", answer.Action);
        Assert.Equal(2, answer.RuleIndex);
        Assert.Equal("block-gambling", answer.RuleName);
        Assert.Equal("gambling", answer.Category);
        Assert.Equal(["gambling"], answer.Categories);
        Assert.Equal([0, 1, 2], answer.Rules.Select(r => r.Index));
        Assert.Equal("domains", answer.Rules[0].FailedCriterion);
        Assert.Contains("www.casino.example", answer.Rules[0].Reason, StringComparison.Ordinal);
        Assert.Equal("groups", answer.Rules[1].FailedCriterion);
        Assert.True(answer.Rules[2].Matched);
        Assert.Null(answer.Rules[2].FailedCriterion);
    }

    [Fact]
    public async Task Users_groups_come_from_the_portal_and_a_wildcard_matches_below_the_domain()
    {
        await ImportAsync(PolicyYaml);

        var alice = await ExplainAsync(new PolicyExplainRequest(User: "Alice@Example.test", Host: "docs.wiki.example"));
        Assert.Equal(("allow", 1, "engineering-wiki"), (alice.Action, alice.RuleIndex, alice.RuleName));
        Assert.Equal(["log-full-url"], alice.Inspect);
        Assert.Equal("domains", alice.Rules[0].FailedCriterion);

        var bob = await ExplainAsync(new PolicyExplainRequest(User: "bob@example.test", Host: "docs.wiki.example"));
        Assert.Equal(-1, bob.RuleIndex);
        Assert.Equal("groups", bob.Rules[1].FailedCriterion);

        // The wildcard covers subdomains only, not the domain itself.
        var bare = await ExplainAsync(new PolicyExplainRequest(User: "alice@example.test", Host: "wiki.example"));
        Assert.Equal(-1, bare.RuleIndex);
        Assert.Equal("domains", bare.Rules[1].FailedCriterion);
    }

    [Fact]
    public async Task Network_and_port_rule_matches_only_its_port()
    {
        await ImportAsync(PolicyYaml);

        var database = await ExplainAsync(new PolicyExplainRequest(Ip: "10.20.3.4", Port: 5432, Protocol: "tcp"));
        Assert.Equal(("block", 3, "block-database"), (database.Action, database.RuleIndex, database.RuleName));

        var ssh = await ExplainAsync(new PolicyExplainRequest(Ip: "10.20.3.4", Port: 22, Protocol: "tcp"));
        Assert.Equal(("allow", -1), (ssh.Action, ssh.RuleIndex));
        Assert.Null(ssh.RuleName);
        Assert.Equal(4, ssh.Rules.Count);
        Assert.All(ssh.Rules, r => Assert.False(r.Matched));
        Assert.Equal("ports", ssh.Rules[3].FailedCriterion);
    }

    [Fact]
    public async Task Explain_right_after_an_import_sees_the_new_policy()
    {
        await ImportAsync(PolicyYaml);
        Assert.Equal(2, (await ExplainAsync(new PolicyExplainRequest(Host: "casino.example"))).RuleIndex);

        await ImportAsync("rules:\n  - name: block-all\n    action: block\n");
        var answer = await ExplainAsync(new PolicyExplainRequest(Host: "casino.example"));
        Assert.Equal(("block", 0, "block-all"), (answer.Action, answer.RuleIndex, answer.RuleName));
    }

    [Fact]
    public async Task Without_a_policy_every_flow_is_allowed_by_default()
    {
        var answer = await ExplainAsync(new PolicyExplainRequest(Host: "www.casino.example", Port: 443));

        Assert.Equal("allow", answer.Action);
        Assert.Equal(-1, answer.RuleIndex);
        Assert.Empty(answer.Rules);
        Assert.Equal(["gambling"], answer.Categories);
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { """{"port": 70000}""", "port" },
        { """{"port": 0}""", "port" },
        { """{"user": "carol@example.test"}""", "user" },
        { """{"user": "not an email"}""", "user" },
        { """{"host": "*.casino.example"}""", "host" },
        { """{"host": "10.0.0.1"}""", "host" },
        { """{"ip": "10.0.0.300"}""", "ip" },
        { """{"network": "office"}""", "network" },
        { """{"protocol": "ftp"}""", "protocol" },
        { """{"url": "casino.example/page"}""", "url" },
        { """{"groups": [""]}""", "groups[0]" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_refused_naming_the_field(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var problem = await Problem.ReadAsync(await _client.PostAsync("policy/explain", content), HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.Field);
    }

    private async Task ImportAsync(string yaml)
    {
        using var content = new StringContent(yaml, Encoding.UTF8, "application/yaml");
        var response = await _client.PutAsync("policy", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<PolicyExplainResponse> ExplainAsync(PolicyExplainRequest request)
    {
        var response = await _client.PostAsJsonAsync("policy/explain", request, PortalServer.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<PolicyExplainResponse>(PortalServer.Json))!;
    }
}
