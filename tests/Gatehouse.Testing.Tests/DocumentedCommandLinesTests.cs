namespace Gatehouse.Testing.Tests;

public sealed class DocumentedCommandLinesTests
{
    [Fact]
    public void Lines_split_as_a_shell_splits_them_with_placeholders_filled_in()
    {
        Assert.Equal(
            ["user", "create", "--name", "Ana Lima", "--group", "sales"],
            DocumentedCommandLines.Arguments("gatehouse user create --name \"Ana Lima\" --group sales   # a comment", "gatehouse"));
        Assert.Equal(["logs", "query", "--json"], DocumentedCommandLines.Arguments("gatehouse logs query --json | jq -r '.[]' > out", "gatehouse"));
        Assert.Equal(["enroll", "--token", DocumentedCommandLines.AnId, "--name", "n"], DocumentedCommandLines.Arguments("gatehouse enroll --token TOKEN [--name n]", "gatehouse"));
        Assert.Equal(["rollout", "show", DocumentedCommandLines.AnId], DocumentedCommandLines.Arguments("gatehouse rollout show 0193a1f2-…", "gatehouse"));
        Assert.Equal(["release", "add", "--path", "content/bypass/*"], DocumentedCommandLines.Arguments("gatehouse release add --path 'content/bypass/*'", "gatehouse"));
        Assert.Equal(["run"], DocumentedCommandLines.Arguments("sudo -u gatehouse-edge /usr/lib/gatehouse/edge/gatehouse-edge run", "gatehouse-edge"));
        Assert.Throws<FormatException>(() => DocumentedCommandLines.Arguments("gatehouse user create --name \"Ana", "gatehouse"));
    }

    [Fact]
    public void Continued_lines_are_one_command_and_output_tables_and_builds_are_none()
    {
        const string Markdown = "text `gatehouse user list` outside a block\n```\n$ gatehouse user create \\\n  --email a@example.com\ngatehouse        261 MB/s\ndotnet publish src/gatehouse -o out\n```\n";

        Assert.Equal([new DocumentedCommandLine("x.md:4", "gatehouse user create  --email a@example.com")], DocumentedCommandLines.Find(Markdown, "x.md", "gatehouse"));
    }

    [Fact]
    public void A_unit_s_command_lines_are_its_ExecStart_and_the_commands_in_its_comments()
    {
        const string Unit = "# Install, then enroll as the user:\n#   sudo -u gh /usr/lib/gatehouse/gatehouse enroll \\\n#     --portal https://p\n[Service]\nExecStart=/usr/lib/gatehouse/gatehouse status\n";

        Assert.Equal(
            [new DocumentedCommandLine("x.service:3", "sudo -u gh /usr/lib/gatehouse/gatehouse enroll  --portal https://p"), new DocumentedCommandLine("x.service:5", "/usr/lib/gatehouse/gatehouse status")],
            DocumentedCommandLines.Find(Unit, "x.service", "gatehouse"));
    }

    [Fact]
    public void This_checkout_s_documents_are_found()
    {
        Assert.Contains(DocumentedCommandLines.InRepository("gatehouse-edge"), c => ((string)c[0]).StartsWith("deploy/gatehouse-edge.service:", StringComparison.Ordinal));
        Assert.Contains(DocumentedCommandLines.InRepository("gatehouse"), c => ((string)c[0]).StartsWith("README.md:", StringComparison.Ordinal));
    }
}
