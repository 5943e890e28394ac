using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.Policy;

public sealed class PolicyCommandTests
{
    private const string Yaml = """
        rules:
          - name: block-gambling
            action: block
            criteria:
              categories: [gambling]
          - name: allow-all
            action: allow
        """;

    private static string Rules(int count) => "[" + string.Join(",", Enumerable.Range(0, count).Select(i =>
        $$"""{"id":"{{Guid.NewGuid()}}","order":{{i}},"rule":{"name":"r{{i}}","action":"allow","enabled":true,"criteria":{ } } }""")) + "]";

    [Fact]
    public async Task Import_sends_a_yaml_file_as_is_with_the_yaml_content_type_and_prints_the_rule_count()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Json(Rules(2)));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var file = Path.Combine(cli.Folder, "policy.yaml");
        await File.WriteAllTextAsync(file, Yaml);

        var run = await cli.RunAsync("policy", "import", file);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("policy imported: 2 rules in force\n", run.Stdout);
        var request = Assert.Single(portal.Requests);
        Assert.Equal(("PUT", "/policy", "application/yaml"), (request.Method, request.Path, request.ContentType));
        Assert.Equal(Yaml, request.Body);
    }

    [Fact]
    public async Task Import_sends_other_files_as_json()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Json(Rules(0)));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var file = Path.Combine(cli.Folder, "policy.json");
        await File.WriteAllTextAsync(file, """{"rules":[]}""");

        var run = await cli.RunAsync("policy", "import", file);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("application/json", Assert.Single(portal.Requests).ContentType);
    }

    [Fact]
    public async Task A_refused_policy_exits_7_and_names_the_rule_field()
    {
        await using var portal = ScriptedPortal.Start(_ => Reply.Problem(400, "Bad policy", "unknown category 'gambling'", "rules[0].criteria.categories[0]"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var file = Path.Combine(cli.Folder, "policy.yml");
        await File.WriteAllTextAsync(file, Yaml);

        var run = await cli.RunAsync("policy", "import", file);

        Assert.Equal(7, run.ExitCode);
        Assert.Equal("error: unknown category 'gambling' (field: rules[0].criteria.categories[0])\n", run.Stderr);
    }

    [Fact]
    public async Task Export_writes_the_document_to_a_file()
    {
        await using var portal = ScriptedPortal.Start(_ => new Reply(200, Yaml, "application/yaml"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");
        var file = Path.Combine(cli.Folder, "out.yaml");

        var run = await cli.RunAsync("policy", "export", "--output", file);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Yaml, await File.ReadAllTextAsync(file));
        Assert.Equal("format=yaml", Assert.Single(portal.Requests).Query);
    }

    [Fact]
    public async Task Export_to_a_folder_that_does_not_exist_exits_7_with_one_line_on_stderr()
    {
        await using var portal = ScriptedPortal.Start(_ => new Reply(200, Yaml, "application/yaml"));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("policy", "export", "--output", Path.Combine(cli.Folder, "missing", "out.yaml"));

        Assert.Equal(7, run.ExitCode);
        Assert.StartsWith("error: ", run.Stderr, StringComparison.Ordinal);
        Assert.Single(run.Stderr.TrimEnd().Split('\n'));
    }
}
