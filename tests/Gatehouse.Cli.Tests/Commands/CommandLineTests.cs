using Gatehouse.Cli.Tests.Scripted;

namespace Gatehouse.Cli.Tests.Commands;

public sealed class CommandLineTests
{
    [Theory]
    [InlineData("frobnicate")]
    [InlineData("user", "frobnicate")]
    [InlineData("user")]
    [InlineData("user", "create")]
    [InlineData("admin", "create", "--email", "a@example.com", "--role", "emperor")]
    [InlineData("user", "list", "--limit", "0")]
    // Validators that read a value the parser could not convert crashed with a stack trace (exit 134).
    [InlineData("user", "list", "--limit", "abc")]
    [InlineData("admin", "list", "--limit", "99999999999")]
    [InlineData("logs", "query", "--limit", "abc")]
    [InlineData("provisioning-key", "create", "--name", "k", "--kind", "router")]
    public async Task A_wrong_command_line_exits_2_with_the_reason_on_stderr(params string[] args)
    {
        using var cli = new CliRunner(new Uri("http://127.0.0.1:1/"));

        var run = await cli.RunAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("error: ", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task Help_goes_to_stdout_and_exits_0()
    {
        using var cli = new CliRunner();

        var run = await cli.RunAsync("category", "import", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--dir", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("app-segment", "Delete an app segment")]
    [InlineData("segment-group", "Create a segment group")]
    [InlineData("server-group", "Delete a server group")]
    public async Task Help_names_each_object_with_its_article(string noun, string expected)
    {
        using var cli = new CliRunner();

        var run = await cli.RunAsync(noun, "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(expected, run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_any_portal_a_command_exits_3_and_says_to_log_in()
    {
        using var cli = new CliRunner();

        var run = await cli.RunAsync("user", "list");

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("gatehouse login", run.Stderr, StringComparison.Ordinal);
    }
}
