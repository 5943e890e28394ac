using System.Text.Json.Nodes;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.Releases;

public sealed class RolloutCommandTests
{
    private static readonly Guid Pilots = Guid.NewGuid();
    private static readonly Guid Staff = Guid.NewGuid();
    private static readonly Guid Contractors = Guid.NewGuid();
    private static readonly Guid TeamBlue = Guid.NewGuid();
    private static readonly Guid Rollout = Guid.NewGuid();
    private static readonly Guid Gone = Guid.NewGuid();

    private static readonly string RolloutJson = $$"""
        {"id":"{{Rollout}}","channel":"bypass","version":"1.2","baselineVersion":"1.1","plan":"rings","stage":"internal",
         "stages":["internal","canary","early","broad"],"shareBasisPoints":0,"status":"running","reason":null,"health":null,
         "createdAt":"2026-12-01T00:00:00Z","updatedAt":"2026-12-01T00:00:00Z","groupIds":["{{Pilots}}"],
         "internalGroupIds":["{{Staff}}"],"pins":{"{{Pilots}}":"1.1"},"deferredUntil":{"{{Staff}}":"2026-12-04T00:00:00Z","{{Gone}}":"2026-12-05T00:00:00Z"} }
        """;

    private static Reply Script(ReceivedRequest r) => (r.Method, r.Path) switch
    {
        ("GET", "/groups") => Reply.Json($$"""{"items":[{"id":"{{Pilots}}","name":"pilots","description":"","createdAt":"2026-11-01T00:00:00Z"},{"id":"{{Staff}}","name":"staff","description":"","createdAt":"2026-11-01T00:00:00Z"},{"id":"{{Contractors}}","name":"contractors","description":"","createdAt":"2026-11-01T00:00:00Z"},{"id":"{{TeamBlue}}","name":"team=blue","description":"","createdAt":"2026-11-01T00:00:00Z"}],"nextCursor":null}"""),
        ("POST", "/rollouts") => new Reply(201, RolloutJson),
        ("GET", var path) when path == $"/rollouts/{Rollout}" => Reply.Json(RolloutJson),
        _ => Reply.Problem(404, "Not found", "no route"),
    };

    private const string BypassVersionJson = """
        {"channel":"bypass","version":"2026.12.04.1","target":"content/bypass/2026.12.04.1.json","length":180,"sha256":"7f83b1657ff1fc53b92dc18148a1d65dfc2d4b1fa3d677284addd200126d9069","records":2}
        """;

    [Theory]
    [InlineData(201, "bypass 2026.12.04.1 published (2 records, 180 bytes); roll it out with `gatehouse rollout create --channel bypass --version 2026.12.04.1`\n")]
    // The portal answers 200 to bytes it has published already and changes nothing; this said "published" all the same.
    [InlineData(200, "bypass 2026.12.04.1 unchanged: these exact bytes are published already as bypass 2026.12.04.1 (2 records, 180 bytes), which stays as it is; nothing was signed\n")]
    public async Task Content_publish_says_published_for_a_new_version_and_unchanged_for_the_same_bytes_again(int status, string output)
    {
        await using var portal = ScriptedPortal.Start(r => (r.Method, r.Path) is ("POST", "/content/bypass") ? new Reply(status, BypassVersionJson) : Reply.Problem(404, "Not found", "no route"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var file = Path.Combine(cli.Folder, "bypass.json");
        await File.WriteAllTextAsync(file, "{}");

        var run = await cli.RunAsync("content", "publish", "bypass", file);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(output, run.Stdout);
    }

    [Fact]
    public async Task Create_takes_groups_by_name_or_id_in_every_option()
    {
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync(
            "rollout", "create", "--channel", "bypass", "--version", "1.2",
            "--group", "Pilots", "--internal-group", Staff.ToString(), "--pin", "pilots=N-1", "--defer", $"{Contractors}=3");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var body = JsonNode.Parse(Assert.Single(portal.Requests, r => r.Method == "POST").Body)!;
        Assert.Equal([Pilots.ToString()], body["groupIds"]!.AsArray().Select(g => (string?)g));
        Assert.Equal([Staff.ToString()], body["internalGroupIds"]!.AsArray().Select(g => (string?)g));
        Assert.Equal("N-1", (string?)body["pins"]![Pilots.ToString()]);
        Assert.Equal(3, (int?)body["deferDays"]![Contractors.ToString()]);
        Assert.Single(portal.Requests, r => r.Path == "/groups"); // resolves every option and names the groups shown
    }

    [Fact]
    public async Task A_group_whose_name_has_an_equals_sign_is_pinned_and_held_back_by_name()
    {
        // GROUP=VALUE was split at the first '=': "team=blue=3" looked for a group "team" held back "blue=3" days.
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var held = await cli.RunAsync("rollout", "create", "--channel", "bypass", "--version", "1.2", "--defer", "team=blue=3");
        var pinned = await cli.RunAsync("rollout", "create", "--channel", "bypass", "--version", "1.2", "--pin", "team=blue=N-1");

        Assert.True(held.ExitCode == 0 && pinned.ExitCode == 0, held.Stderr + pinned.Stderr);
        var bodies = portal.Requests.Where(r => r.Method == "POST").Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal(3, (int?)bodies[0]["deferDays"]![TeamBlue.ToString()]);
        Assert.Equal("N-1", (string?)bodies[1]["pins"]![TeamBlue.ToString()]);
    }

    [Theory]
    [InlineData("--defer", "pilots=1", "Pilots=2")]
    [InlineData("--pin", "pilots=N", "PILOT_ID=1.1")]
    [InlineData("--defer", "PILOT_ID=1", "PILOT_ID=1")]
    public async Task A_group_given_twice_to_pin_or_defer_is_refused_by_name_not_overwritten(string option, string first, string second)
    {
        // The last of the two was sent, and the first dropped without a word.
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        (first, second) = (first.Replace("PILOT_ID", Pilots.ToString(), StringComparison.Ordinal), second.Replace("PILOT_ID", Pilots.ToString(), StringComparison.Ordinal));

        var run = await cli.RunAsync("rollout", "create", "--channel", "bypass", "--version", "1.2", option, first, option, second);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal($"error: {option} gives group pilots twice ({first}, {second}): give each group once\n", run.Stderr);
        Assert.DoesNotContain(portal.Requests, r => r.Method == "POST");
    }

    [Theory]
    [InlineData("--pin", "pilots=N", "--defer", "Pilots=3", "group pilots is given to both --pin and --defer: a pin keeps the group on its version whatever the rollout does, so holding it back would never apply")]
    [InlineData("--internal-group", "pilots", "--defer", "pilots=3", "group pilots is given to both --defer and --internal-group: a hold keeps the group on the baseline until it ends, so it would not go first as the internal ring")]
    [InlineData("--internal-group", "pilots", "--pin", "pilots=1.1", "group pilots is given to both --pin and --internal-group: a pin keeps the group on its version whatever the rollout does, so it would not go first as the internal ring")]
    public async Task A_group_given_two_parts_is_refused_with_the_reason(string option, string value, string otherOption, string otherValue, string reason)
    {
        // A pin and a hold on one group were both sent; devices followed the pin and the hold never applied.
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("rollout", "create", "--channel", "bypass", "--version", "1.2", option, value, otherOption, otherValue);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal($"error: {reason}; give it one of them\n", run.Stderr);
        Assert.DoesNotContain(portal.Requests, r => r.Method == "POST");
    }

    [Theory]
    [InlineData("--group", "nosuch")]
    [InlineData("--internal-group", "nosuch")]
    [InlineData("--pin", "nosuch=N")]
    public async Task Create_with_an_unknown_group_says_so_in_one_line(string option, string value)
    {
        // A name given where an id was expected ended in an unhandled exception and a stack trace.
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("rollout", "create", "--channel", "bypass", "--version", "1.2", option, value);

        Assert.Equal(ExitCodes.NotFound, run.ExitCode);
        Assert.Equal("error: no group named nosuch\n", run.Stderr);
        Assert.DoesNotContain(portal.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Show_names_the_groups_and_shows_the_internal_ring_pins_and_holds()
    {
        // Pins and deferrals were not shown at all, and groups only by id.
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("rollout", "show", Rollout.ToString());

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("plan rings, for groups pilots\n", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("  internal ring: staff\n", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("  pinned: pilots stays on 1.1\n", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("  held back: staff until 2026-12-04 00:00Z\n", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"  held back: {Gone} until 2026-12-05 00:00Z\n", run.Stdout, StringComparison.Ordinal);

        var json = await cli.RunAsync("rollout", "show", Rollout.ToString(), "--json");
        Assert.Equal("1.1", (string?)JsonNode.Parse(json.Stdout)!["pins"]![Pilots.ToString()]);
        Assert.Single(portal.Requests, r => r.Path == "/groups"); // the JSON needs no names
    }
}
