using Gatehouse.Agent.Commands;
using Gatehouse.Testing;

namespace Gatehouse.Agent.Tests.Commands;

/// <summary>Every `gatehouse-agent …` command that README.md, docs/ and deploy/ give parses with the program's own command line.</summary>
public sealed class DocumentedCommandsTests : DocumentedCommandsContract
{
    protected override string Program => "gatehouse-agent";

    protected override int AtLeast => 3;

    protected override IReadOnlyList<string> Problems(string[] arguments) => [.. AgentCommand.Build().Parse(arguments).Errors.Select(e => e.Message)];
}
