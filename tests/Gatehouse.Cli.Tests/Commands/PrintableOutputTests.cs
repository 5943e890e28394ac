using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands;

/// <summary>Text from the portal reaches an admin's terminal: it must never carry escape sequences there.</summary>
public sealed class PrintableOutputTests
{
    [Fact]
    public async Task A_list_prints_control_and_invisible_characters_as_replacement_characters()
    {
        // A description stored before the portal refused such text printed as "clear the screen, then red".
        await using var portal = ScriptedPortal.Start(r => (r.Method, r.Path) switch
        {
            ("GET", "/groups") => Reply.Json("""{"items":[{"id":"0195f000-0000-7000-8000-0000000000a1","name":"ops\u200b","description":"\u001b[2J\u001b[31mPWNED\u0007","createdAt":"2026-11-01T00:00:00Z"}],"nextCursor":null}"""),
            _ => Reply.Problem(404, "Not found", r.Path),
        });
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("group", "list");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.DoesNotContain('\u001b', run.Stdout);
        Assert.DoesNotContain('\u0007', run.Stdout);
        Assert.Contains("ops\uFFFD", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("\uFFFD[2J\uFFFD[31mPWNED\uFFFD", run.Stdout, StringComparison.Ordinal);
    }
}
