using System.Web;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.Audit;

public sealed class AuditCommandTests
{
    private static Reply Empty(ReceivedRequest r) => r.Path == "/audit" ? Reply.Json("""{"items":[],"nextCursor":null}""") : Reply.Problem(404, "Not found", "no route");

    [Fact]
    public async Task Times_without_a_zone_are_utc_as_the_tables_print_them_and_logs_query_reads_them()
    {
        // They were read in the machine's zone: in Tokyo, --since 02:52 asked for 17:52 the day before.
        await using var portal = ScriptedPortal.Start(Empty);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("audit", "list", "--since", "2026-12-07T02:52:00", "--until", "2026-12-07T11:53:30+09:00");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var query = HttpUtility.ParseQueryString(Assert.Single(portal.Requests).Query);
        Assert.Equal((DateTimeOffset.Parse("2026-12-07T02:52:00Z"), DateTimeOffset.Parse("2026-12-07T02:53:30Z")), (DateTimeOffset.Parse(query["since"]!), DateTimeOffset.Parse(query["until"]!)));
    }

    [Fact]
    public async Task A_time_that_is_not_one_is_a_usage_error_in_words()
    {
        // "--since 10m" printed System.CommandLine's "Cannot parse argument '10m' ... as expected type 'System.Nullable`1[System.DateTimeOffset]'".
        await using var portal = ScriptedPortal.Start(Empty);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("audit", "list", "--since", "10m");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--since takes an ISO 8601 time such as 2026-11-22T10:00:00Z; got '10m'", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", run.Stderr, StringComparison.Ordinal);
        Assert.Empty(portal.Requests);
    }
}
