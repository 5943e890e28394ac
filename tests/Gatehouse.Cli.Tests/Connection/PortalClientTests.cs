using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Connection;

public sealed class PortalClientTests
{
    private static string User(int n) =>
        $$"""{"id":"{{Guid.NewGuid()}}","email":"user{{n}}@example.com","displayName":"User {{n}}","disabled":false,"groupIds":[],"createdAt":"2025-01-0{{n}}T00:00:00+00:00","extra":{{n}}}""";

    private static Reply UserPages(ReceivedRequest request) => request.Query switch
    {
        var q when q.Contains("cursor=p2", StringComparison.Ordinal) => Reply.Json($$"""{"items":[{{User(3)}},{{User(4)}}],"nextCursor":"p3"}"""),
        var q when q.Contains("cursor=p3", StringComparison.Ordinal) => Reply.Json($$"""{"items":[{{User(5)}}],"nextCursor":null}"""),
        _ => Reply.Json($$"""{"items":[{{User(1)}},{{User(2)}}],"nextCursor":"p2"}"""),
    };

    [Fact]
    public async Task A_listing_that_spans_three_pages_is_fetched_whole()
    {
        await using var portal = ScriptedPortal.Start(UserPages);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("user", "list");

        Assert.Equal(0, run.ExitCode);
        var lines = run.Stdout.TrimEnd().Split('\n');
        Assert.StartsWith("ID", lines[0], StringComparison.Ordinal);
        Assert.Equal(6, lines.Length);
        Assert.Contains("user5@example.com", run.Stdout, StringComparison.Ordinal);
        Assert.Equal(["", "p2", "p3"], portal.Requests.Select(r => System.Web.HttpUtility.ParseQueryString(r.Query)["cursor"] ?? ""));
    }

    [Fact]
    public async Task Json_of_a_listing_is_one_array_of_the_api_items_as_received()
    {
        await using var portal = ScriptedPortal.Start(UserPages);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("users", "list", "--json");

        Assert.Equal(0, run.ExitCode);
        var items = JsonNode.Parse(run.Stdout)!.AsArray();
        Assert.Equal(5, items.Count);
        Assert.Equal("user1@example.com", (string?)items[0]!["email"]);
        // Fields the CLI does not know are passed through, not dropped.
        Assert.Equal(5, (int?)items[4]!["extra"]);
        Assert.Equal("2025-01-05T00:00:00+00:00", (string?)items[4]!["createdAt"]);
    }

    [Fact]
    public async Task Limit_stops_paging_once_enough_items_are_fetched()
    {
        await using var portal = ScriptedPortal.Start(UserPages);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("user", "list", "--json", "--limit", "3");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, JsonNode.Parse(run.Stdout)!.AsArray().Count);
        Assert.Equal(2, portal.Requests.Count);
    }

    [Fact]
    public async Task A_not_found_problem_exits_4_and_prints_its_detail_on_stderr()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Problem(404, "Not found", "no device with this id"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("device", "show", Guid.NewGuid().ToString());

        Assert.Equal(4, run.ExitCode);
        Assert.Equal("error: no device with this id\n", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    [Theory]
    [InlineData(401, 3)]
    [InlineData(403, 3)]
    [InlineData(409, 5)]
    [InlineData(413, 7)]
    [InlineData(500, 1)]
    [InlineData(503, 1)]
    public async Task Each_problem_status_maps_to_its_documented_exit_code(int status, int exitCode)
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Problem(status, "t", "refused"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("group", "create", "--name", "sales");

        Assert.Equal(exitCode, run.ExitCode);
        Assert.StartsWith("error: refused", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_input_problem_exits_7_and_shows_the_field()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Problem(400, "Bad input", "not an email address", "email"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("user", "create", "--email", "nobody");

        Assert.Equal(7, run.ExitCode);
        Assert.Equal("error: not an email address (field: email)\n", run.Stderr);
    }

    [Fact]
    public async Task A_portal_that_refuses_connections_exits_6_and_says_so()
    {
        using var cli = new CliRunner(new Uri($"http://127.0.0.1:{ScriptedPortal.FreePort()}/")).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("group", "list");

        Assert.Equal(6, run.ExitCode);
        Assert.Contains("connection refused", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_sends_the_csrf_header_on_post_but_not_on_get()
    {
        await using var portal = ScriptedPortal.Start(r => r.Method == "GET"
            ? Reply.Json("""{"items":[],"nextCursor":null}""")
            : Reply.Json($$"""{"id":"{{Guid.NewGuid()}}","name":"sales","description":"","createdAt":"2025-01-01T00:00:00Z"}"""));
        using var cli = new CliRunner();
        WriteSessionConfig(cli, portal.Url);

        Assert.Equal(0, (await cli.RunAsync("group", "list")).ExitCode);
        Assert.Equal(0, (await cli.RunAsync("group", "create", "--name", "sales")).ExitCode);

        var get = portal.Requests.Single(r => r.Method == "GET");
        var post = portal.Requests.Single(r => r.Method == "POST");
        Assert.Equal("gatehouse_session=cookie-value", get.Header("Cookie"));
        Assert.Null(get.Header("X-CSRF-Token"));
        Assert.Equal("gatehouse_session=cookie-value", post.Header("Cookie"));
        Assert.Equal("csrf-value", post.Header("X-CSRF-Token"));
        Assert.Null(post.Header("Authorization"));
    }

    [Fact]
    public async Task Stored_credentials_are_not_sent_to_another_portal_given_by_flag()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Problem(401, "Not signed in", "sign in first"));
        using var cli = new CliRunner();
        WriteSessionConfig(cli, new Uri("http://127.0.0.1:1/"));

        var run = await cli.RunAsync("group", "list", "--portal", portal.Url.ToString());

        Assert.Equal(3, run.ExitCode);
        var request = Assert.Single(portal.Requests);
        Assert.Null(request.Header("Cookie"));
        Assert.Null(request.Header("Authorization"));
    }

    [Fact]
    public async Task An_api_token_from_the_environment_is_sent_as_a_bearer_token()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Json("""{"items":[],"nextCursor":null}"""));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_secret");

        var run = await cli.RunAsync("edge", "list");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Bearer gh_secret", Assert.Single(portal.Requests).Header("Authorization"));
        Assert.Equal("", run.Stderr);
    }

    internal static void WriteSessionConfig(CliRunner cli, Uri portal)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(cli.ConfigPath)!);
        File.WriteAllText(cli.ConfigPath, JsonSerializer.Serialize(new
        {
            portal = portal.ToString(),
            session = new { cookie = "cookie-value", csrfToken = "csrf-value", email = "owner@example.com", expiresAt = "2030-01-01T00:00:00Z" },
        }));
    }
}
