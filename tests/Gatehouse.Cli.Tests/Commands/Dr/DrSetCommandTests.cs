using System.Text.Json.Nodes;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.Dr;

/// <summary>
/// <c>gatehouse dr set</c>: <c>--edge NAME</c> when edge names repeat (a re-enrolled edge often keeps the revoked
/// one's name), and the <c>--policy</c> file, read before anything is sent.
/// </summary>
public sealed class DrSetCommandTests : IDisposable
{
    private static readonly Guid Revoked = Guid.NewGuid();
    private static readonly Guid Active = Guid.NewGuid();
    private static readonly Guid Other = Guid.NewGuid();
    private readonly DrPublicKeyFile _key = new();

    public void Dispose() => _key.Dispose();

    private static string Edge(Guid id, string name, string status) =>
        $$"""{"id":"{{id}}","name":"{{name}}","address":"10.0.0.1:7444","status":"{{status}}","certificateSerial":"01","certificateNotAfter":"2027-01-01T00:00:00Z","enrolledAt":"2026-12-01T00:00:00Z","lastSeenAt":null}""";

    private static Func<ReceivedRequest, Reply> Portal(params string[] edges) => r => (r.Method, r.Path) switch
    {
        ("GET", "/edges") => Reply.Json($$"""{"items":[{{string.Join(",", edges)}}],"nextCursor":null}"""),
        ("PUT", "/dr") => Reply.Json("""{"recordName":"_dr.corp.example","publicKeyPem":"k","edgeIds":[],"drillGroupId":null,"rules":[],"defaultAction":"block","checkSeconds":60,"ready":false,"updatedAt":null}"""),
        _ => Reply.Problem(404, "Not found", "no route"),
    };

    [Fact]
    public async Task A_name_shared_with_a_revoked_edge_means_the_active_one()
    {
        await using var portal = ScriptedPortal.Start(Portal(Edge(Revoked, "dr-edge-1", "revoked"), Edge(Active, "dr-edge-1", "active")));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("dr", "set", "--record-name", "_dr.corp.example", "--public-key", _key.Path, "--edge", "dr-edge-1", "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var put = JsonNode.Parse(Assert.Single(portal.Requests, r => r.Method == "PUT").Body)!;
        Assert.Equal([Active.ToString()], put["edgeIds"]!.AsArray().Select(e => (string?)e));
    }

    // The file was read with the portal client's lenient options: the misspelt criterion was dropped before the
    // portal could refuse it, and the DR policy allowed every site where its author meant one.
    [Fact]
    public async Task A_policy_file_with_a_misspelt_criterion_is_refused_before_anything_is_sent()
    {
        await using var portal = ScriptedPortal.Start(Portal(Edge(Active, "dr-edge-1", "active")));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var file = Path.Combine(cli.Folder, "dr-policy.json");
        await File.WriteAllTextAsync(file, """{"rules":[{"name":"intranet","action":"allow","criteria":{"domain":["intranet.corp.example"]}}]}""");

        var run = await cli.RunAsync("dr", "set", "--record-name", "_dr.corp.example", "--public-key", _key.Path, "--edge", "dr-edge-1", "--policy", file);

        Assert.Equal(ExitCodes.BadInput, run.ExitCode);
        Assert.Equal($"error: {file} is not a JSON policy document: rules[0].criteria.domain is not a field of one (misspelt?)\n", run.Stderr);
        Assert.Empty(portal.Requests);
    }

    [Fact]
    public async Task A_name_two_active_edges_share_is_refused_with_their_ids()
    {
        await using var portal = ScriptedPortal.Start(Portal(Edge(Active, "dr-edge-1", "active"), Edge(Other, "dr-edge-1", "active")));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("dr", "set", "--record-name", "_dr.corp.example", "--public-key", _key.Path, "--edge", "dr-edge-1");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Equal($"error: 2 edges are named dr-edge-1 ({Active}, {Other}): give the id\n", run.Stderr);
        Assert.DoesNotContain(portal.Requests, r => r.Method == "PUT");
    }
}
