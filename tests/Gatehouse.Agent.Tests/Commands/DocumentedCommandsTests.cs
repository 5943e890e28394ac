using Gatehouse.Agent.Commands;
using Gatehouse.Testing;

namespace Gatehouse.Agent.Tests.Commands;

/// <summary>Every `gatehouse-agent …` command that README.md, docs/ and deploy/ give parses with the program's own command line.</summary>
public sealed class DocumentedCommandsTests : DocumentedCommandsContract
{
    protected override string Program => "gatehouse-agent";

    protected override int AtLeast => 3;

    public static TheoryData<string, string> Documented() => DocumentedCommandLines.InRepository("gatehouse-agent");

    [Theory]
    [MemberData(nameof(Documented))]
    public void A_documented_command_parses(string where, string line) => AssertParses(where, line);

    protected override IReadOnlyList<string> Problems(string[] arguments) => [.. AgentCommand.Build().Parse(arguments).Errors.Select(e => e.Message)];
}
