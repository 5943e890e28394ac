using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Storage;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Testing;
using Gatehouse.Testing.Json;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.Portal.Tests.Api;

/// <summary>
/// Generated bodies thrown at the admin calls that create what the rest hangs off (users, the policy, app segments,
/// provisioning keys, enrollment tokens), as the owner: each is done (2xx, audited) or refused with a 4xx problem and
/// changes nothing; never a 5xx, never a hang.
/// </summary>
public sealed class AdminBodyFuzzTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private HttpClient _owner = null!;
    private Guid _group;
    private Guid _user;
    private Guid _segmentGroup;
    private Guid _connectorGroup;
    private Guid _serverGroup;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _owner = await _portal.SignInAsync();
        _group = (await CreateAsync<GroupDto>("groups", new CreateGroupRequest("engineering"))).Id;
        _user = (await CreateAsync<UserDto>("users", new CreateUserRequest("ana@example.test", "Ana", [_group]))).Id;
        _segmentGroup = (await CreateAsync<SegmentGroupDto>("segment-groups", new NamedObjectRequest("internal", "Internal apps"))).Id;
        _connectorGroup = (await CreateAsync<ConnectorGroupDto>("connector-groups", new NamedObjectRequest("dc-paris"))).Id;
        _serverGroup = (await CreateAsync<ServerGroupDto>("server-groups", new ServerGroupRequest("wiki-servers", Servers: ["wiki-1.corp.example"]))).Id;
        await CreateAsync<AppSegmentDto>("app-segments", new AppSegmentRequest("intranet", Domains: ["intranet.corp.example"], Ports: ["443"]));
        await CreateAsync<UrlCategoryDto>("categories", new CreateUrlCategoryRequest("news", Domains: ["news.example"]));
    }

    public async Task DisposeAsync()
    {
        _owner.Dispose();
        await _portal.DisposeAsync();
    }

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public Task Generated_user_bodies_never_fail_the_portal() => FuzzAsync(HttpMethod.Post, "users", 20261208, i => new JsonObject
    {
        ["email"] = $"user{i}@example.test",
        ["displayName"] = "New User",
        ["groupIds"] = new JsonArray(_group.ToString()),
    });

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public Task Generated_policy_documents_in_json_and_yaml_never_fail_the_portal() => FuzzAsync(HttpMethod.Put, "policy", 20261209, _ => new JsonObject
    {
        ["rules"] = new JsonArray(
            new JsonObject
            {
                ["name"] = "block-gambling",
                ["action"] = "block",
                ["enabled"] = true,
                ["description"] = "No casinos\nat work",
                ["criteria"] = new JsonObject
                {
                    ["users"] = new JsonArray("ana@example.test"),
                    ["groups"] = new JsonArray("engineering"),
                    ["posture"] = new JsonArray("disk-encrypted"),
                    ["networks"] = new JsonArray("untrusted"),
                    ["schedule"] = new JsonObject { ["days"] = new JsonArray("mon", "fri"), ["from"] = "08:00", ["to"] = "18:00", ["timeZone"] = "Europe/Berlin" },
                    ["domains"] = new JsonArray("*.casino.example", "bet.example"),
                    ["categories"] = new JsonArray("news"),
                    ["cidrs"] = new JsonArray("10.0.0.0/8", "2001:db8::/32"),
                    ["ports"] = new JsonArray("443", "8000-8080"),
                    ["protocols"] = new JsonArray("tcp", "https"),
                },
                ["inspect"] = new JsonArray("log-full-url"),
            },
            new JsonObject
            {
                ["name"] = "intranet",
                ["action"] = "allow",
                ["criteria"] = new JsonObject { ["appSegments"] = new JsonArray("intranet"), ["segmentGroups"] = new JsonArray("internal") },
            }),
    }, "application/json", "application/yaml");

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public Task Generated_app_segment_bodies_never_fail_the_portal() => FuzzAsync(HttpMethod.Post, "app-segments", 20261210, i => new JsonObject
    {
        ["name"] = $"wiki-{i}",
        ["description"] = "The wiki",
        ["enabled"] = true,
        ["domains"] = new JsonArray("wiki.corp.example", "*.wiki.corp.example"),
        ["cidrs"] = new JsonArray("10.1.0.0/16"),
        ["ports"] = new JsonArray("443", "8080-8081"),
        ["segmentGroupId"] = _segmentGroup.ToString(),
        ["connectorGroupIds"] = new JsonArray(_connectorGroup.ToString()),
        ["serverGroupIds"] = new JsonArray(_serverGroup.ToString()),
    });

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public Task Generated_provisioning_key_bodies_never_fail_the_portal() => FuzzAsync(HttpMethod.Post, "provisioning-keys", 20261211, _ => new JsonObject
    {
        ["name"] = "dc-paris-connectors",
        ["kind"] = "connector",
        ["connectorGroupId"] = _connectorGroup.ToString(),
        ["expiresInDays"] = 30,
        ["maxUses"] = 5,
    });

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public Task Generated_enrollment_token_bodies_never_fail_the_portal() => FuzzAsync(HttpMethod.Post, "enrollment-tokens", 20261212, _ => new JsonObject
    {
        ["description"] = "Ana's laptop",
        ["userId"] = _user.ToString(),
        ["expiresInHours"] = 24,
        ["maxUses"] = 2,
    });

    /// <summary>
    /// Sends mutants of the valid bodies <paramref name="valid"/> makes (the <c>i</c>th for the <c>i</c>th mutant, so that
    /// names that must be unique are) to <paramref name="path"/>, in the first of <paramref name="contentTypes"/> or now and
    /// then another, and checks every answer.
    /// </summary>
    private async Task FuzzAsync(HttpMethod method, string path, int fixedSeed, Func<int, JsonNode> valid, params string[] contentTypes)
    {
        var seed = Fuzzing.Seed(fixedSeed);
        var random = new Random(seed);
        var uri = new Uri(_owner.BaseAddress!, path);
        contentTypes = contentTypes.Length == 0 ? ["application/json"] : contentTypes;
        var count = Fuzzing.Inputs(600);
        // Mutants of a body that is refused anyway would test little beyond the first check.
        var first = await FuzzedRequests.SendAsync(_owner, method, uri, new JsonMutant("valid body", System.Text.Encoding.UTF8.GetBytes(valid(count).ToJsonString()), contentTypes[0]));
        Assert.True(first is { Failure: null, Status: >= HttpStatusCode.OK and < HttpStatusCode.MultipleChoices }, $"The valid body of {method} {path} is refused: {first}");
        var failures = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var mutant = JsonMutations.Generate(random, valid(i), i, contentTypes);
            var before = await AuditedAsync();
            var answer = await FuzzedRequests.SendAsync(_owner, method, uri, mutant);
            var audited = await AuditedAsync() - before;
            var failure = answer is { Failure: null, Status: >= HttpStatusCode.OK and < HttpStatusCode.MultipleChoices }
                ? audited > 0 ? null : $"done, but not audited: {answer}"
                : FuzzedRequests.NotARefusal(answer) ?? (audited == 0 ? null : $"refused, but {audited} changes were audited: {answer}");
            if (failure is not null)
            {
                failures.Add($"input {i}: {failure}\n    input: {mutant}");
            }
        }

        Assert.True(failures.Count == 0, $"{Fuzzing.Describe(seed)}: {failures.Count} of {count} inputs to {method} {path} were mishandled; the first:\n{string.Join('\n', failures.Take(5))}");
        // The portal still answers the owner.
        (await _owner.GetAsync(path)).EnsureSuccessStatusCode();
    }

    /// <summary>The entries of the audit log, in which every admin change lands.</summary>
    private async Task<long> AuditedAsync()
    {
        using var scope = _portal.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<PortalDbContext>().Set<AuditEntry>().IgnoreQueryFilters().LongCountAsync();
    }

    private async Task<T> CreateAsync<T>(string path, object request)
    {
        var response = await _owner.PostAsJsonAsync(path, request, PortalServer.Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(PortalServer.Json))!;
    }
}
