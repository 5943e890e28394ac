using System.Text.Json.Nodes;
using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands.Session;

public sealed class SessionCommandsTests
{
    private static readonly string Admin =
        $$"""{"id":"{{Guid.NewGuid()}}","email":"owner@example.com","role":"owner","isOperator":false,"createdAt":"2025-01-01T00:00:00Z"}""";

    private static Func<ReceivedRequest, Reply> Portal(bool oneTimePassword) => r => (r.Method, r.Path) switch
    {
        ("POST", "/auth/login") => new Reply(200, $$"""{"admin":{{Admin}},"tenantId":"{{Guid.NewGuid()}}","csrfToken":"csrf-1","expiresAt":"2030-01-01T00:00:00Z"}""")
        {
            Headers = new Dictionary<string, string> { ["Set-Cookie"] = "gatehouse_session=sess-1; Path=/; Secure; HttpOnly; SameSite=Strict" },
        },
        ("GET", "/tenant") when oneTimePassword => Reply.Problem(403, "Forbidden", "change your one-time password first"),
        ("GET", "/tenant") => Reply.Json($$"""{"id":"{{Guid.NewGuid()}}","name":"acme","createdAt":"2025-01-01T00:00:00Z","caCertificatePem":"x","configKeyPublicPem":"y"}"""),
        ("POST", "/auth/logout") => new Reply(204),
        _ => Reply.Problem(404, "Not found", "no route"),
    };

    [Fact]
    public async Task Login_reads_the_password_from_stdin_and_stores_the_session_for_later_commands()
    {
        await using var portal = ScriptedPortal.Start(Portal(oneTimePassword: false));
        using var cli = new CliRunner();

        var run = await cli.RunWithStdinAsync("s3cret\n", "login", "--portal", portal.Url.ToString(), "--email", "owner@example.com", "--password-stdin");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("signed in as owner@example.com (owner)", run.Stdout, StringComparison.Ordinal);
        var login = portal.Requests.First();
        Assert.Equal("""{"email":"owner@example.com","password":"s3cret"}""", login.Body);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(cli.ConfigPath))!;
        Assert.Equal(portal.Url.ToString(), (string?)config["portal"]);
        Assert.Equal("sess-1", (string?)config["session"]!["cookie"]);
        Assert.Equal("csrf-1", (string?)config["session"]!["csrfToken"]);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(cli.ConfigPath));
        }
        Assert.DoesNotContain("s3cret", await File.ReadAllTextAsync(cli.ConfigPath), StringComparison.Ordinal);

        var logout = await cli.RunAsync("logout");
        Assert.Equal(0, logout.ExitCode);
        var last = portal.Requests.Last();
        Assert.Equal(("POST", "/auth/logout", "csrf-1"), (last.Method, last.Path, last.Header("X-CSRF-Token")));
        Assert.Null(JsonNode.Parse(await File.ReadAllTextAsync(cli.ConfigPath))!["session"]);
    }

    [Fact]
    public async Task Login_with_a_wrong_password_says_so_without_telling_to_run_login()
    {
        // The hint "(run `gatehouse login`)" was added to the refusal of `gatehouse login` itself.
        await using var portal = ScriptedPortal.Start(r => Reply.Problem(401, "Unauthorized", "The email or password is wrong."));
        using var cli = new CliRunner();

        var run = await cli.RunWithStdinAsync("wrong\n", "login", "--portal", portal.Url.ToString(), "--email", "owner@example.com", "--password-stdin");

        Assert.Equal(ExitCodes.FromStatus(401), run.ExitCode);
        Assert.Equal("error: The email or password is wrong.\n", run.Stderr);
    }

    [Fact]
    public async Task Login_with_a_one_time_password_says_to_run_admin_password()
    {
        await using var portal = ScriptedPortal.Start(Portal(oneTimePassword: true));
        using var cli = new CliRunner().With("GATEHOUSE_PASSWORD", "temporary");

        var run = await cli.RunAsync("login", "--portal", portal.Url.ToString(), "--email", "owner@example.com");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("gatehouse admin password", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_without_a_terminal_or_password_source_is_a_usage_error()
    {
        await using var portal = ScriptedPortal.Start(Portal(oneTimePassword: false));
        using var cli = new CliRunner();

        var run = await cli.RunAsync("login", "--portal", portal.Url.ToString(), "--email", "owner@example.com");

        Assert.Equal(2, run.ExitCode);
        Assert.Empty(portal.Requests);
    }

    [Fact]
    public async Task Admin_password_reads_current_then_new_from_stdin()
    {
        await using var portal = ScriptedPortal.Start(_ => new Reply(204));
        using var cli = new CliRunner(portal.Url).With("GATEHOUSE_TOKEN", "gh_test");

        var run = await cli.RunWithStdinAsync("old-one\nnew-one\n", "admin", "password");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(portal.Requests);
        Assert.Equal(("POST", "/auth/password"), (request.Method, request.Path));
        Assert.Equal("""{"currentPassword":"old-one","newPassword":"new-one"}""", request.Body);
    }
}
