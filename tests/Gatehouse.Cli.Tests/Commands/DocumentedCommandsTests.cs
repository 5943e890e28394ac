using Gatehouse.Cli.Commands;
using Gatehouse.Testing;

namespace Gatehouse.Cli.Tests.Commands;

/// <summary>
/// Every <c>gatehouse …</c> command that README.md and docs/ give parses with the CLI's own command line: each command
/// and option it names exists and takes what the document gives it. What the command then does is its own tests' business.
/// </summary>
public sealed class DocumentedCommandsTests : DocumentedCommandsContract
{
    protected override string Program => "gatehouse";

    protected override int AtLeast => 50;

    [Theory]
    [InlineData("gatehouse user create --emial ana@example.com")]
    [InlineData("gatehouse user lst")]
    [InlineData("gatehouse logs query --since")]
    [InlineData("gatehouse rollout show not-an-id")]
    public void A_command_line_that_would_fail_is_caught(string line)
    {
        Assert.NotEmpty(Problems(DocumentedCommandLines.Arguments(line, Program)));
    }

    protected override IReadOnlyList<string> Problems(string[] arguments)
    {
        var environment = CliEnvironment.FromStreams(TextWriter.Null, TextWriter.Null, TextReader.Null, _ => null);
        return [.. GatehouseCommand.Build(new CliApp(environment, TimeProvider.System)).Parse(arguments).Errors.Select(e => e.Message)];
    }
}
