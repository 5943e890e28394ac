using System.Text.Json.Nodes;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.PrivateAccess;

public sealed class PrivateAccessCommandTests
{
    private static readonly Guid Dc = Guid.Parse("0195f000-0000-7000-8000-0000000000d1");
    private static readonly Guid Web = Guid.Parse("0195f000-0000-7000-8000-0000000000e1");

    [Fact]
    public async Task App_segment_create_turns_group_names_into_ids()
    {
        await using var portal = ScriptedPortal.Start(request => (request.Method, request.Path) switch
        {
            ("GET", "/connector-groups") => Reply.Json($$"""{"items":[{"id":"{{Dc}}","name":"dc-1","description":""}],"nextCursor":null}"""),
            ("GET", "/server-groups") => Reply.Json($$"""{"items":[{"id":"{{Web}}","name":"web","description":"","servers":["10.0.0.5"],"healthCheck":"tcp","healthPath":"/"}],"nextCursor":null}"""),
            ("POST", "/app-segments") => Reply.Json($$"""{"id":"{{Guid.NewGuid()}}","name":"wiki","description":"","enabled":true,"domains":["wiki.corp.internal"],"cidrs":[],"ports":["443"],"segmentGroupId":null,"connectorGroupIds":["{{Dc}}"],"serverGroupIds":["{{Web}}"]}"""),
            _ => Reply.Problem(404, "Not found", request.Path),
        });
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("app-segment", "create", "--name", "wiki", "--domain", "wiki.corp.internal", "--port", "443", "--connector-group", "dc-1", "--server-group", "web");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.StartsWith("app segment wiki created: ", run.Stdout, StringComparison.Ordinal);
        var post = JsonNode.Parse(portal.Requests.Single(r => r.Method == "POST").Body)!;
        Assert.Equal(Dc.ToString(), (string)post["connectorGroupIds"]![0]!);
        Assert.Equal(Web.ToString(), (string)post["serverGroupIds"]![0]!);
        Assert.Equal("443", (string)post["ports"]![0]!);
    }

    [Fact]
    public async Task Connector_list_names_each_connectors_group_and_json_keeps_the_id()
    {
        var connector = $$"""{"id":"{{Guid.NewGuid()}}","name":"paris-1","connectorGroupId":"{{Dc}}","status":"active","certificateSerial":"01","certificateNotAfter":"2027-01-01T00:00:00Z","enrolledAt":"2026-12-01T00:00:00Z","lastSeenAt":null}""";
        await using var portal = ScriptedPortal.Start(request => (request.Method, request.Path) switch
        {
            ("GET", "/connectors") => Reply.Json($$"""{"items":[{{connector}}],"nextCursor":null}"""),
            ("GET", "/connector-groups") => Reply.Json($$"""{"items":[{"id":"{{Dc}}","name":"dc-1","description":""}],"nextCursor":null}"""),
            _ => Reply.Problem(404, "Not found", request.Path),
        });
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var table = await cli.RunAsync("connector", "list");
        var json = await cli.RunAsync("connector", "list", "--json");

        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Equal(["paris-1", "dc-1", "active"], table.Stdout.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..4]);
        Assert.Equal(Dc.ToString(), (string?)JsonNode.Parse(json.Stdout)![0]!["connectorGroupId"]);
    }

    [Theory]
    [InlineData("ZZ-SG", "0195f000-0000-7000-8000-0000000000b2")]
    [InlineData("zz-sg", "0195f000-0000-7000-8000-0000000000b1")]
    public async Task Delete_by_a_name_that_differs_from_another_only_in_case_deletes_the_one_written(string name, string expected)
    {
        // The first name in any case was taken: `segment-group delete ZZ-SG` deleted zz-sg.
        await using var portal = ScriptedPortal.Start(request => (request.Method, request.Path) switch
        {
            ("GET", "/segment-groups") => Reply.Json("""{"items":[{"id":"0195f000-0000-7000-8000-0000000000b1","name":"zz-sg","description":""},{"id":"0195f000-0000-7000-8000-0000000000b2","name":"ZZ-SG","description":""}],"nextCursor":null}"""),
            ("DELETE", _) => new Reply(204),
            _ => Reply.Problem(404, "Not found", request.Path),
        });
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("segment-group", "delete", name);
        var ambiguous = await cli.RunAsync("segment-group", "delete", "Zz-Sg");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal($"/segment-groups/{expected}", Assert.Single(portal.Requests, r => r.Method == "DELETE").Path);
        Assert.Equal(ExitCodes.Usage, ambiguous.ExitCode);
        Assert.StartsWith("error: 2 segment groups are named Zz-Sg", ambiguous.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_connector_group_exits_not_found_and_creates_nothing()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Json("""{"items":[],"nextCursor":null}"""));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("app-segment", "create", "--name", "wiki", "--domain", "wiki.corp.internal", "--port", "443", "--connector-group", "nope");

        Assert.Equal(4, run.ExitCode);
        Assert.Contains("no connector group named nope", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(portal.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Access_policy_import_sends_the_yaml_to_the_access_policy()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Json("""[{"id":"0195f000-0000-7000-8000-000000000001","order":0,"rule":{"name":"r","action":"allow","enabled":true,"criteria":{}}}]"""));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var file = Path.Combine(cli.Folder, "access.yaml");
        await File.WriteAllTextAsync(file, "rules: []\n");

        var run = await cli.RunAsync("access-policy", "import", file);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("access policy imported: 1 rule in force\n", run.Stdout);
        Assert.Equal(("PUT", "/access-policy", "application/yaml"), (portal.Requests.Single().Method, portal.Requests.Single().Path, portal.Requests.Single().ContentType));
    }

    [Fact]
    public async Task Server_group_create_sends_the_check()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Json($$"""{"id":"{{Web}}","name":"web","description":"","servers":["10.0.0.5"],"healthCheck":"http","healthPath":"/healthz"}"""));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("server-group", "create", "--name", "web", "--server", "10.0.0.5", "--health-check", "http", "--health-path", "/healthz");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var body = JsonNode.Parse(portal.Requests.Single().Body)!;
        Assert.Equal(("http", "/healthz"), ((string)body["healthCheck"]!, (string)body["healthPath"]!));
    }
}
