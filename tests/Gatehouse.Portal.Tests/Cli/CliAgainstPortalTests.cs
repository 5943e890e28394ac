using System.Text.Json;
using Gatehouse.Cli;
using Gatehouse.Portal.Tests.Hosting;

namespace Gatehouse.Portal.Tests.Cli;

/// <summary>The <c>gatehouse</c> commands against a real portal, as an admin runs them.</summary>
public sealed class CliAgainstPortalTests : IAsyncLifetime
{
    private PortalServer _portal = null!;
    private string _configPath = null!;

    public async Task InitializeAsync()
    {
        _portal = await PortalServer.StartAsync();
        _configPath = Path.Combine(_portal.DataDirectory, "cli.json");
        var login = await RunWithInputAsync(PortalServer.OwnerPassword + "\n", "login", "--portal", _portal.BaseAddress.ToString(), "--ca-file", CaFile, "--email", PortalServer.OwnerEmail, "--password-stdin");
        Assert.True(login.Code == 0, login.Stderr);
    }

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    private string CaFile => Path.Combine(_portal.DataDirectory, "tls.crt");

    private sealed record Run(int Code, string Stdout, string Stderr);

    private async Task<Run> RunWithInputAsync(string stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var environment = new CliEnvironment(stdout, stderr, new StringReader(stdin), name => name == "GATEHOUSE_CLI_CONFIG" ? _configPath : null, interactive: false, colour: false);
        var code = await GatehouseCommand.RunAsync(args, environment, TimeProvider.System, CancellationToken.None);
        return new Run(code, stdout.ToString(), stderr.ToString());
    }

    private Task<Run> RunAsync(params string[] args) => RunWithInputAsync("", args);

    [Fact]
    public async Task Whoami_shows_the_signed_in_owner()
    {
        var run = await RunAsync("whoami", "--json");
        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Equal(PortalServer.OwnerEmail, json.RootElement.GetProperty("admin").GetProperty("email").GetString());
    }

    [Fact]
    public async Task Users_and_groups_are_created_listed_updated_and_deleted()
    {
        Assert.Equal(0, (await RunAsync("group", "create", "--name", "engineering")).Code);
        Assert.Equal(0, (await RunAsync("user", "create", "--email", "alice@example.com", "--name", "Alice", "--group", "engineering")).Code);

        var list = await RunAsync("user", "list", "--json");
        Assert.Equal(0, list.Code);
        using (var users = JsonDocument.Parse(list.Stdout))
        {
            var alice = users.RootElement.EnumerateArray().Single();
            Assert.Equal("alice@example.com", alice.GetProperty("email").GetString());
            Assert.Equal(1, alice.GetProperty("groupIds").GetArrayLength());
        }

        Assert.Equal(0, (await RunAsync("user", "update", "alice@example.com", "--disable")).Code);
        Assert.Contains("yes", (await RunAsync("user", "show", "alice@example.com")).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync("user", "delete", "alice@example.com")).Code);
        Assert.Equal("[]", (await RunAsync("user", "list", "--json")).Stdout.Trim());
    }

    [Fact]
    public async Task Token_created_by_the_cli_authenticates_a_second_login()
    {
        var created = await RunAsync("token", "create", "--name", "automation", "--scope", "read");
        Assert.Equal(0, created.Code);
        var token = created.Stdout.Trim();
        Assert.StartsWith("gh_", token, StringComparison.Ordinal);

        var login = await RunAsync("login", "--portal", _portal.BaseAddress.ToString(), "--ca-file", CaFile, "--token", token);
        Assert.Equal(0, login.Code);
        Assert.Equal(0, (await RunAsync("user", "list")).Code);
        var refused = await RunAsync("group", "create", "--name", "read-only-cannot");
        Assert.Equal(3, refused.Code);
        Assert.StartsWith("error:", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_lists_what_the_cli_changed()
    {
        await RunAsync("group", "create", "--name", "audited");
        var run = await RunAsync("audit", "list", "--action", "group.create", "--json");
        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Stdout);
        Assert.Contains(json.RootElement.EnumerateArray(), e => e.GetProperty("after").GetString()!.Contains("audited", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Exit_codes_tell_not_found_conflict_and_bad_input_apart()
    {
        Assert.Equal(4, (await RunAsync("user", "show", "nobody@example.com")).Code);
        Assert.Equal(0, (await RunAsync("group", "create", "--name", "twice")).Code);
        Assert.Equal(5, (await RunAsync("group", "create", "--name", "twice")).Code);
        var bad = await RunAsync("user", "create", "--email", "not-an-email");
        Assert.Equal(7, bad.Code);
        Assert.Contains("email", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_exits_3_and_a_dead_portal_exits_6()
    {
        var wrong = await RunWithInputAsync("not the password\n", "login", "--portal", _portal.BaseAddress.ToString(), "--ca-file", CaFile, "--email", PortalServer.OwnerEmail, "--password-stdin");
        Assert.Equal(3, wrong.Code);
        var unreachable = await RunAsync("whoami", "--portal", $"https://127.0.0.1:{Gatehouse.Testing.FreePort.GetLoopbackTcpPort()}/");
        Assert.Equal(6, unreachable.Code);
    }

    [Fact]
    public async Task Tenant_create_prints_only_the_owners_one_time_password()
    {
        var run = await RunAsync("tenant", "create", "--name", "acme", "--owner-email", "it@acme.example");
        Assert.Equal(0, run.Code);
        Assert.StartsWith("otp_", run.Stdout.Trim(), StringComparison.Ordinal);
        Assert.Single(run.Stdout.Trim().Split('\n'));
    }
}
