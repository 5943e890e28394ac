using System.Text.Json.Nodes;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.Users;

public sealed class ProxyCredentialCommandTests
{
    private static readonly Guid Ana = Guid.NewGuid();
    private static readonly Guid Credential = Guid.NewGuid();
    private const string Password = "ghx_r4nd0m-password_of-43-characters-xxxxxxxxx";

    private static readonly string AnaJson = $$"""{"id":"{{Ana}}","email":"ana@example.com","displayName":"Ana","disabled":false,"groupIds":[],"createdAt":"2026-11-01T00:00:00Z"}""";
    private static readonly string CredentialJson = $$"""{"id":"{{Credential}}","userId":"{{Ana}}","username":"ana@example.com","description":"laptop","createdAt":"2026-11-22T10:00:00Z"}""";

    private static Reply Script(ReceivedRequest r) => (r.Method, r.Path) switch
    {
        ("GET", "/users") => Reply.Json($$"""{"items":[{{AnaJson}}],"nextCursor":null}"""),
        ("GET", var p) when p == $"/users/{Ana}" => Reply.Json(AnaJson),
        ("POST", var p) when p == $"/users/{Ana}/proxy-credentials" => new Reply(201, $$"""{"credential":{{CredentialJson}},"password":"{{Password}}"}"""),
        ("GET", var p) when p == $"/users/{Ana}/proxy-credentials" => Reply.Json($$"""{"items":[{{CredentialJson}}],"nextCursor":null}"""),
        ("DELETE", var p) when p == $"/users/{Ana}/proxy-credentials/{Credential}" => new Reply(204),
        _ => Reply.Problem(404, "Not found", "no route"),
    };

    [Fact]
    public async Task Create_prints_only_the_password_on_stdout_and_the_user_name_on_stderr()
    {
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("user", "proxy-credential", "create", "ana@example.com", "--description", "laptop");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(Password + "\n", run.Stdout);
        Assert.Contains("user name ana@example.com", run.Stderr, StringComparison.Ordinal);
        var post = Assert.Single(portal.Requests, r => r.Method == "POST");
        Assert.Equal("laptop", (string?)JsonNode.Parse(post.Body)!["description"]);
    }

    [Fact]
    public async Task Create_with_json_prints_the_user_name_and_password_together()
    {
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunAsync("user", "proxy-credentials", "create", Ana.ToString(), "--json");

        Assert.True(run.ExitCode == 0, run.Stderr);
        var json = JsonNode.Parse(run.Stdout)!;
        Assert.Equal(("ana@example.com", Password), ((string?)json["credential"]!["username"], (string?)json["password"]));
        Assert.DoesNotContain(portal.Requests, r => r.Path == "/users");
    }

    [Fact]
    public async Task List_and_delete_name_the_user_by_email()
    {
        await using var portal = ScriptedPortal.Start(Script);
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var list = await cli.RunAsync("user", "proxy-credential", "list", "ana@example.com");
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Equal(["ID", "USERNAME", "DESCRIPTION", "CREATED"], list.Stdout.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"{Credential}  ana@example.com  laptop", list.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, list.Stdout, StringComparison.Ordinal);

        var delete = await cli.RunAsync("user", "proxy-credential", "delete", "ana@example.com", Credential.ToString());
        Assert.True(delete.ExitCode == 0, delete.Stderr);
        Assert.Equal($"proxy credential {Credential} of ana@example.com deleted\n", delete.Stdout);
        Assert.Single(portal.Requests, r => r.Method == "DELETE");

        var unknown = await cli.RunAsync("user", "proxy-credential", "delete", "ana@example.com", Guid.NewGuid().ToString());
        Assert.Equal(4, unknown.ExitCode);
    }
}
