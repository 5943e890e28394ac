using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gatehouse.Portal.Tests.Hosting;
using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Tests.Api;

/// <summary>Bad input gets a problem naming the field, and changes nothing.</summary>
public sealed class BadInputTests
{
    private sealed record Case(string Name, string Method, string Path, string Body, HttpStatusCode Status, string? Field);

    private static readonly Case[] Cases =
    [
        new("malformed JSON", "POST", "users", """{"email": "a@example.com", """, HttpStatusCode.BadRequest, "$"),
        new("unknown field", "POST", "users", """{"email":"a@example.com","isAdmin":true}""", HttpStatusCode.BadRequest, "isAdmin"),
        new("wrong type", "POST", "users", """{"email":"a@example.com","groupIds":[42]}""", HttpStatusCode.BadRequest, "groupIds[0]"),
        new("missing required field", "POST", "groups", """{"description":"no name"}""", HttpStatusCode.BadRequest, "name"),
        new("not an email", "POST", "users", """{"email":"not-an-email"}""", HttpStatusCode.BadRequest, "email"),
        new("unknown group", "POST", "users", $$"""{"email":"a@example.com","groupIds":["{{Guid.NewGuid()}}"]}""", HttpStatusCode.BadRequest, "groupIds[0]"),
        new("control characters", "POST", "groups", """{"name":"bad\u0007name"}""", HttpStatusCode.BadRequest, "name"),
        // A description carried terminal escapes to every `gatehouse group list`; a name, invisible characters that make two look alike.
        new("escape in a description", "POST", "groups", """{"name":"ok","description":"\u001b[2J\u001b[31mPWNED"}""", HttpStatusCode.BadRequest, "description"),
        new("NUL in a rule description", "POST", "policy/rules", """{"name":"r","action":"allow","description":"a\u0000b"}""", HttpStatusCode.BadRequest, "description"),
        new("zero-width space in a name", "POST", "groups", """{"name":"pg-one\u200b"}""", HttpStatusCode.BadRequest, "name"),
        new("bidi override in a name", "POST", "groups", """{"name":"\u202Eeno-gp"}""", HttpStatusCode.BadRequest, "name"),
        new("duplicate key", "POST", "policy/rules", """{"name":"dup","action":"block","enabled":false,"action":"allow"}""", HttpStatusCode.BadRequest, "action"),
        new("bad role", "POST", "admins", """{"email":"x@example.com","role":"root"}""", HttpStatusCode.BadRequest, "role"),
        new("bad scope", "POST", "tokens", """{"name":"t","scopes":["everything"],"expiresInDays":1}""", HttpStatusCode.BadRequest, "scopes[0]"),
        new("bad page size", "GET", "users?limit=100000", "", HttpStatusCode.BadRequest, "limit"),
        new("bad cursor", "GET", "users?cursor=%%%", "", HttpStatusCode.BadRequest, "cursor"),
        // Query values the framework could not bind were refused with its own words and no field.
        new("page size not a number", "GET", "users?limit=abc", "", HttpStatusCode.BadRequest, "limit"),
        new("time not a time", "GET", "audit?since=garbage", "", HttpStatusCode.BadRequest, "since"),
        // An empty page said nothing of the mistake, as the logs' from/to already do.
        new("until before since", "GET", "audit?since=2026-12-06T10:00:00Z&until=2026-12-05T10:00:00Z", "", HttpStatusCode.BadRequest, "until"),
        new("id not an id", "GET", $"devices?userId=not-a-guid", "", HttpStatusCode.BadRequest, "userId"),
        new("oversized body", "POST", "groups", $$"""{"name":"big","description":"{{new string('x', 2 * 1024 * 1024)}}"}""", HttpStatusCode.RequestEntityTooLarge, null),
    ];

    [Fact]
    public async Task An_oversized_body_is_told_the_limit_of_its_route()
    {
        // "The request body is larger than the portal accepts." said neither how large nor which limit.
        await using var portal = await PortalEngines.StartAsync(PortalEngines.Sqlite);
        using var client = await portal.SignInAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "content/bypass") { Content = new ByteArrayContent(new byte[(8 * 1024 * 1024) + 2]) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.ExpectContinue = true;

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("(8388608 bytes", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_field_is_named_as_the_body_spells_it_not_as_dotnet_does()
    {
        // The detail was System.Text.Json's: "The JSON property 'isAdmin' could not be mapped to any .NET member
        // contained in type 'Gatehouse.Wire.Api.CreateUserRequest'."
        await using var portal = await PortalServer.StartAsync();
        using var client = await portal.SignInAsync();

        var refused = await SendAsync(client, HttpMethod.Post, "policy/rules", "application/json",
            """{"name":"r","action":"block","criteria":{"domain":["example.com"]}}""");

        var problem = await Problem.ReadAsync(refused, HttpStatusCode.BadRequest);
        Assert.Equal("criteria.domain", problem.Field);
        Assert.Equal("criteria.domain is not a field of this call; check its spelling against the API reference.", problem.Detail);
    }

    [Fact]
    public async Task A_body_in_a_charset_other_than_utf8_is_refused_as_unsupported_and_utf8_in_any_spelling_is_read()
    {
        // A charset the framework did not know (a quoted "utf-8" included) failed the call with a 500.
        await using var portal = await PortalServer.StartAsync();
        using var client = await portal.SignInAsync();

        foreach (var charset in new[] { "bogus", "", "utf-16", "iso-8859-1" })
        {
            var refused = await SendAsync(client, HttpMethod.Post, "groups", $"application/json; charset={charset}", """{"name":"refused"}""");
            var problem = await Problem.ReadAsync(refused, HttpStatusCode.UnsupportedMediaType);
            Assert.Contains($"charset '{charset}'", problem.Detail, StringComparison.Ordinal);
        }

        // The policy import reads its body itself, JSON or YAML: the same rule.
        var yaml = await SendAsync(client, HttpMethod.Put, "policy", "application/yaml; charset=latin1", "rules: []\n");
        await Problem.ReadAsync(yaml, HttpStatusCode.UnsupportedMediaType);

        string[] utf8 = ["\"utf-8\"", "UTF-8", "utf8", "\"UTF-8\""];
        for (var i = 0; i < utf8.Length; i++)
        {
            var created = await SendAsync(client, HttpMethod.Post, "groups", $"application/json; charset={utf8[i]}", $$"""{"name":"group-{{i}}"}""");
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"charset={utf8[i]}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        var groups = (await client.GetFromJsonAsync<Page<GroupDto>>("groups", PortalServer.Json))!.Items;
        Assert.Equal(["group-0", "group-1", "group-2", "group-3"], groups.Select(g => g.Name).Order());
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string contentType, string body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body) };
        request.Content.Headers.Remove("Content-Type");
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return await client.SendAsync(request);
    }

    [Fact]
    public Task Bad_input_is_refused_with_the_field_named_and_nothing_changes_on_sqlite() => RunAsync(PortalEngines.Sqlite);

    [PostgresFact]
    public Task Bad_input_is_refused_with_the_field_named_and_nothing_changes_on_postgresql() => RunAsync(PortalEngines.Postgres);

    private static async Task RunAsync(string engine)
    {
        await using var portal = await PortalEngines.StartAsync(engine);
        using var client = await portal.SignInAsync();
        var before = await StateAsync(client);

        foreach (var c in Cases)
        {
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Path);
            if (c.Body.Length > 0)
            {
                request.Content = new StringContent(c.Body, Encoding.UTF8, "application/json");
                // The portal refuses an oversized body from its headers; with 100-continue the client waits for
                // that answer instead of racing the server's close with the rest of the body.
                request.Headers.ExpectContinue = true;
            }

            var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(c.Status == response.StatusCode, $"{c.Name}: expected {(int)c.Status}, got {(int)response.StatusCode}: {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(text);
            Assert.True(problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString()!.Length > 0, $"{c.Name}: no detail in {text}");
            if (c.Field is not null)
            {
                Assert.True(problem.RootElement.TryGetProperty("field", out var field), $"{c.Name}: no field in {text}");
                Assert.Equal(c.Field, field.GetString());
            }
        }

        Assert.Equal(before, await StateAsync(client));
    }

    /// <summary>Everything the bad calls could have touched, as the API shows it.</summary>
    private static async Task<string> StateAsync(HttpClient client) =>
        string.Join('\n',
            await client.GetStringAsync("users"),
            await client.GetStringAsync("groups"),
            await client.GetStringAsync("admins"),
            JsonSerializer.Serialize((await client.GetFromJsonAsync<Page<ApiTokenDto>>("tokens", PortalServer.Json))!.Items.Count),
            JsonSerializer.Serialize((await client.GetFromJsonAsync<Page<AuditEntryDto>>("audit?limit=500", PortalServer.Json))!.Items.Count));
}
