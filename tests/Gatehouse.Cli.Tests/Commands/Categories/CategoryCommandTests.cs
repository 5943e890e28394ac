using System.Text.Json.Nodes;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.Categories;

public sealed class CategoryCommandTests
{
    private static readonly Guid Existing = Guid.NewGuid();
    private static readonly Guid Created = Guid.NewGuid();

    private static Reply Script(ReceivedRequest r) => (r.Method, r.Path) switch
    {
        ("GET", "/categories") => Reply.Json($$"""{"items":[{"id":"{{Existing}}","name":"adult","description":"","source":"imported","domainCount":7,"createdAt":"2025-01-01T00:00:00Z"}],"nextCursor":null}"""),
        ("POST", "/categories") => Reply.Json($$"""{"id":"{{Created}}","name":"gambling","description":"","source":"imported","domainCount":0,"createdAt":"2025-01-01T00:00:00Z"}"""),
        ("POST", _) => Reply.Json($$"""{"added":{{JsonNode.Parse(r.Body)!["domains"]!.AsArray().Count}},"domainCount":1}"""),
        _ => Reply.Problem(404, "Not found", "no route"),
    };

    [Fact]
    public async Task A_blacklist_folder_is_sent_in_chunks_of_at_most_10000_replacing_only_with_the_first()
    {
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var folder = Path.Combine(cli.Folder, "blacklists");
        var lines = new List<string> { "# UT1 gambling list", "", "   ", "192.168.1.10", "2001:db8::1", "10.0.0.0/8" };
        lines.AddRange(Enumerable.Range(0, 25_003).Select(i => $"Site{i}.example"));
        lines.Insert(5000, "# a comment in the middle");
        WriteCategory(folder, "gambling", lines);
        WriteCategory(folder, "adult", ["a.example", "b.example"]);
        Directory.CreateDirectory(Path.Combine(folder, "not-a-category"));

        var run = await cli.RunAsync("category", "import", "--dir", folder, "--json");

        Assert.Equal(0, run.ExitCode);
        var requests = portal.Requests.ToList();
        var create = Assert.Single(requests, r => r is { Method: "POST", Path: "/categories" });
        Assert.Equal("gambling", (string?)JsonNode.Parse(create.Body)!["name"]);
        Assert.Equal("imported", (string?)JsonNode.Parse(create.Body)!["source"]);

        var gambling = requests.Where(r => r.Path == $"/categories/{Created}/domains").Select(r => JsonNode.Parse(r.Body)!).ToList();
        Assert.Equal([10_000, 10_000, 5_003], gambling.Select(c => c["domains"]!.AsArray().Count));
        Assert.Equal([true, false, false], gambling.Select(c => (bool)c["replace"]!));
        var sent = gambling.SelectMany(c => c["domains"]!.AsArray().Select(d => (string)d!)).ToList();
        Assert.Equal("site0.example", sent[0]);
        Assert.DoesNotContain(sent, d => d.StartsWith('#') || d.Length == 0 || d.Contains(':', StringComparison.Ordinal) || d.StartsWith("192.", StringComparison.Ordinal) || d.StartsWith("10.", StringComparison.Ordinal));
        Assert.Equal(25_003, sent.Distinct().Count());

        var adult = Assert.Single(requests, r => r.Path == $"/categories/{Existing}/domains");
        Assert.True((bool)JsonNode.Parse(adult.Body)!["replace"]!);
        var summary = JsonNode.Parse(run.Stdout)!.AsArray();
        Assert.Equal(["adult", "gambling"], summary.Select(s => (string?)s!["name"]));
        Assert.Equal(25_003, (long)summary[1]!["sent"]!);
    }

    [Fact]
    public async Task Only_imports_just_the_named_categories()
    {
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var folder = Path.Combine(cli.Folder, "blacklists");
        WriteCategory(folder, "gambling", ["g.example"]);
        WriteCategory(folder, "adult", ["a.example"]);

        var run = await cli.RunAsync("category", "import", "--dir", folder, "--only", "adult");

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain(portal.Requests, r => r.Path == "/categories" && r.Method == "POST");
        Assert.Single(portal.Requests, r => r.Path.EndsWith("/domains", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_bad_domain_anywhere_in_the_folder_is_named_by_file_and_line_and_nothing_is_sent()
    {
        // The first chunk replaced the category's domains before the portal refused a later one: the old ones were lost.
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var folder = Path.Combine(cli.Folder, "blacklists");
        WriteCategory(folder, "adult", ["a.example"]);
        WriteCategory(folder, "gambling", [.. Enumerable.Range(0, 10_003).Select(i => $"site{i}.example"), "bad_domain!.example"]);

        var run = await cli.RunAsync("category", "import", "--dir", folder);

        Assert.Equal(7, run.ExitCode);
        Assert.Equal($"error: {Path.Combine(folder, "gambling", "domains")} line 10004: 'bad_domain!.example' is not a domain name; nothing was imported\n", run.Stderr);
        Assert.DoesNotContain(portal.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task A_missing_folder_exits_7_without_calling_the_portal()
    {
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("category", "import", "--dir", Path.Combine(cli.Folder, "nowhere"));

        Assert.Equal(7, run.ExitCode);
        Assert.Empty(portal.Requests);
    }

    private static void WriteCategory(string folder, string name, IEnumerable<string> lines)
    {
        Directory.CreateDirectory(Path.Combine(folder, name));
        File.WriteAllLines(Path.Combine(folder, name, "domains"), lines);
    }
}
