using Gatehouse.Connector.Commands;
using Gatehouse.Testing;

namespace Gatehouse.Connector.Tests.Commands;

/// <summary>Every `gatehouse-connector …` command that README.md, docs/ and deploy/ give parses with the program's own command line.</summary>
public sealed class DocumentedCommandsTests : DocumentedCommandsContract
{
    protected override string Program => "gatehouse-connector";

    protected override int AtLeast => 3;

    protected override IReadOnlyList<string> Problems(string[] arguments) => [.. ConnectorCommand.Build(TextWriter.Null, TextWriter.Null).Parse(arguments).Errors.Select(e => e.Message)];
}
