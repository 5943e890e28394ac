using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands;

/// <summary>
/// Every command that takes a group, by name or by id: one that matches nothing is not found (exit 4) either way, said
/// before anything is sent. By id it was sent, and the portal's 400 for the reference made it exit 7.
/// </summary>
public sealed class NameLookupTests : IDisposable
{
    private static readonly Guid Edge = Guid.NewGuid();
    private static readonly Guid Unknown = Guid.NewGuid();
    private readonly DrPublicKeyFile _key = new();

    public void Dispose() => _key.Dispose();

    // As the portal answers: every list empty but the edges and the users, a reference to nothing a 400.
    private static Reply Script(ReceivedRequest r) => (r.Method, r.Path) switch
    {
        ("GET", "/edges") => Reply.Json($$"""{"items":[{"id":"{{Edge}}","name":"dr-edge-1","address":"10.0.0.1:7444","status":"active","certificateSerial":"01","certificateNotAfter":"2027-01-01T00:00:00Z","enrolledAt":"2026-12-01T00:00:00Z","lastSeenAt":null}],"nextCursor":null}"""),
        ("GET", "/users") => Reply.Json("""{"items":[{"id":"0195f3c2-7d0e-7c3a-9f00-5a1b2c3d4e5f","email":"ana@example.com","displayName":"Ana","disabled":false,"groupIds":[],"createdAt":"2026-11-01T00:00:00Z"}],"nextCursor":null}"""),
        ("GET", _) => Reply.Json("""{"items":[],"nextCursor":null}"""),
        _ => Reply.Problem(400, "The request is not valid.", "No group with that id in this tenant.", "groupIds"),
    };

    public static TheoryData<string, string[]> CommandsThatTakeAGroup => new()
    {
        { "group", ["user", "create", "--email", "bo@example.com", "--group", "GROUP"] },
        { "group", ["user", "update", "ana@example.com", "--group", "GROUP"] },
        { "group", ["rollout", "create", "--channel", "bypass", "--version", "1", "--group", "GROUP"] },
        { "group", ["rollout", "create", "--channel", "bypass", "--version", "1", "--internal-group", "GROUP"] },
        { "group", ["rollout", "create", "--channel", "bypass", "--version", "1", "--pin", "GROUP=N"] },
        { "group", ["rollout", "create", "--channel", "bypass", "--version", "1", "--defer", "GROUP=3"] },
        { "group", ["dr", "set", "--record-name", "_dr.corp.example", "--public-key", "KEY", "--edge", "dr-edge-1", "--drill-group", "GROUP"] },
        { "connector group", ["provisioning-key", "create", "--name", "k", "--kind", "connector", "--connector-group", "GROUP"] },
        { "connector group", ["app-segment", "create", "--name", "s", "--port", "443", "--domain", "a.example", "--connector-group", "GROUP"] },
        { "server group", ["app-segment", "create", "--name", "s", "--port", "443", "--domain", "a.example", "--server-group", "GROUP"] },
        { "segment group", ["app-segment", "create", "--name", "s", "--port", "443", "--domain", "a.example", "--segment-group", "GROUP"] },
    };

    [Theory]
    [MemberData(nameof(CommandsThatTakeAGroup))]
    public async Task An_unknown_group_is_not_found_by_name_and_by_id(string noun, string[] line)
    {
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var byName = await cli.RunAsync(Fill(line, "nosuch"));
        var byId = await cli.RunAsync(Fill(line, Unknown.ToString()));

        Assert.Equal((ExitCodes.NotFound, $"error: no {noun} named nosuch\n"), (byName.ExitCode, byName.Stderr));
        Assert.Equal((ExitCodes.NotFound, $"error: no {noun} with id {Unknown}\n"), (byId.ExitCode, byId.Stderr));
        Assert.All(portal.Requests, r => Assert.Equal("GET", r.Method));
    }

    private string[] Fill(string[] line, string group) =>
        [.. line.Select(a => a.Replace("GROUP", group, StringComparison.Ordinal).Replace("KEY", _key.Path, StringComparison.Ordinal))];
}
