using System.Globalization;
using System.Text.Json.Nodes;
using System.Web;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.Logs;

public sealed class LogsCommandTests
{
    private static readonly Guid Tenant = Guid.NewGuid();
    private static readonly Guid Edge = Guid.NewGuid();

    private static string Entry(int n, string host, string action = "allow", string? url = null, string? method = "CONNECT", string? user = "ana@example.com", string? rule = null, int port = 443, string? sni = null) =>
        $$"""
        {"id":"{{Guid.CreateVersion7()}}","record":{"time":"2026-11-22T10:0{{n}}:05.123+00:00","tenantId":"{{Tenant}}","edgeId":"{{Edge}}","kind":"flow","listener":"proxy","action":"{{action}}",
         "clientAddress":"10.0.0.7:50000","host":"{{host}}","port":{{port}},"userId":null,"userEmail":{{(user is null ? "null" : $"\"{user}\"")}},"deviceId":null,"destinationIp":null,
         "method":{{(method is null ? "null" : $"\"{method}\"")}},"url":{{(url is null ? "null" : $"\"{url}\"")}},"status":null,"category":null,"rule":{{(rule is null ? "null" : $"\"{rule}\"")}},"reason":null,"referenceId":"ref-{{n}}",
         "bytesUp":{{100 * n}},"bytesDown":{{1000 * n}},"durationMs":5{{(sni is null ? "" : $",\"sni\":\"{sni}\"")}}} }
        """.ReplaceLineEndings("");

    /// <summary>Three records, newest first, two to a page: the portal's order.</summary>
    private static Reply Pages(ReceivedRequest r) => (r.Path, HttpUtility.ParseQueryString(r.Query)["cursor"]) switch
    {
        ("/logs", null) => Reply.Json($$"""{"items":[{{Entry(3, "www.example.com", sni: "www.example.com")}},{{Entry(2, "casino.example", "block", rule: "block-gambling")}}],"nextCursor":"page-2"}"""),
        ("/logs", "page-2") => Reply.Json($$"""{"items":[{{Entry(1, "2001:db8::1", method: "GET", url: "http://[2001:db8::1]/a", user: null, port: 80)}}],"nextCursor":null}"""),
        _ => Reply.Problem(404, "Not found", "no route"),
    };

    [Fact]
    public async Task Query_sends_the_filters_and_prints_one_json_record_a_line_across_pages()
    {
        await using var portal = ScriptedPortal.Start(Pages);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var before = DateTimeOffset.UtcNow;

        var run = await cli.RunAsync("logs", "query", "--since", "90m", "--user", "Ana@Example.com", "--action", "block", "--host", ".example.com", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["ref-3", "ref-2", "ref-1"], lines.Select(l => (string?)JsonNode.Parse(l)!["record"]!["referenceId"]));
        Assert.All(lines, l => Assert.DoesNotContain("\n", l, StringComparison.Ordinal));

        var first = HttpUtility.ParseQueryString(portal.Requests.First().Query);
        var from = DateTimeOffset.Parse(first["from"]!, CultureInfo.InvariantCulture);
        Assert.InRange(from, before.AddMinutes(-90).AddSeconds(-5), DateTimeOffset.UtcNow.AddMinutes(-90).AddSeconds(5));
        Assert.Equal(("Ana@Example.com", "block", ".example.com", "100"), (first["user"], first["action"], first["host"], first["limit"]));
        Assert.Null(first["to"]);
        Assert.Equal("page-2", HttpUtility.ParseQueryString(portal.Requests.Last().Query)["cursor"]);
    }

    [Fact]
    public async Task Table_shows_time_user_action_destination_request_rule_and_bytes()
    {
        await using var portal = ScriptedPortal.Start(Pages);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("logs", "query", "--from", "2026-11-22T10:00", "--to", "2026-11-22T12:00:00+01:00");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(
            """
            TIME                  USER             ACTION  DESTINATION          REQUEST                      RULE            BYTES UP/DOWN
            2026-11-22 10:03:05Z  ana@example.com  allow   www.example.com:443  CONNECT TLS www.example.com  -               300/3000
            2026-11-22 10:02:05Z  ana@example.com  block   casino.example:443   CONNECT                      block-gambling  200/2000
            2026-11-22 10:01:05Z  -                allow   [2001:db8::1]:80     GET http://[2001:db8::1]/a   -               100/1000

            """.ReplaceLineEndings("\n"),
            run.Stdout);
        var query = HttpUtility.ParseQueryString(portal.Requests.First().Query);
        // A time without a zone is UTC; one with a zone is that instant.
        Assert.Equal(("2026-11-22T10:00:00.0000000+00:00", "2026-11-22T11:00:00.0000000+00:00"), (query["from"], query["to"]));
    }

    [Fact]
    public async Task A_request_refused_before_it_named_a_destination_shows_none()
    {
        // An edge records a request head it could not read with no host, port or method.
        await using var portal = ScriptedPortal.Start(r => r.Path == "/logs"
            ? Reply.Json($$"""{"items":[{{Entry(1, "", "denied", method: null, user: null, port: 0)}}],"nextCursor":null}""")
            : Reply.Problem(404, "Not found", "no route"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("logs", "query");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(
            """
            TIME                  USER  ACTION  DESTINATION  REQUEST  RULE  BYTES UP/DOWN
            2026-11-22 10:01:05Z  -     denied  -            -        -     100/1000

            """.ReplaceLineEndings("\n"),
            run.Stdout);
    }

    [Fact]
    public async Task Limit_stops_after_that_many_records()
    {
        await using var portal = ScriptedPortal.Start(Pages);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("logs", "query", "--limit", "2", "--json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(2, run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal("2", HttpUtility.ParseQueryString(Assert.Single(portal.Requests).Query)["limit"]);
    }

    [Theory]
    [InlineData("--since", "1h", "--from", "2026-11-22T10:00:00Z")]
    [InlineData("--since", "5x")]
    [InlineData("--since", "0m")]
    [InlineData("--from", "yesterday")]
    [InlineData("--action", "drop")]
    [InlineData("--limit", "0")]
    [InlineData("--host", "")]
    [InlineData("--host", "*.0.0.1")]
    [InlineData("--host", "127.0.0.1:18001")]
    [InlineData("--host", "*.")]
    public async Task Bad_options_exit_2_without_asking_the_portal(params string[] options)
    {
        await using var portal = ScriptedPortal.Start(Pages);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync(["logs", "query", .. options]);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(portal.Requests);
    }

    [Theory]
    [InlineData("*.0.0.1", "error: --host '*.0.0.1' ends in a number, as addresses do, not in a domain name: a wildcard takes a domain name (*.example.com), and an address matches only in full (127.0.0.1).")]
    [InlineData("127.0.0.1:18001", "error: --host '127.0.0.1:18001' has a port; a host is written without one (127.0.0.1), and records are not filtered by port.")]
    [InlineData("", "error: --host is empty; give a host name (www.example.com), an address (192.0.2.1 or 2001:db8::1), or .example.com or *.example.com for every name below example.com.")]
    [InlineData("*.", "error: --host '*.' names no domain after the '*.'; write .example.com or *.example.com for every name below example.com.")]
    public async Task A_bad_host_is_refused_in_words_that_quote_it(string host, string message)
    {
        await using var portal = ScriptedPortal.Start(Pages);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("logs", "query", "--host", host);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_parameter_the_portal_refuses_exits_7_naming_it()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Problem(400, "The request is not valid.", "host 'older.example' is refused by this portal.", "host"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("logs", "query", "--host", "older.example");

        Assert.Equal(7, run.ExitCode);
        Assert.EndsWith("(field: host)\n", run.Stderr, StringComparison.Ordinal);
    }
}
