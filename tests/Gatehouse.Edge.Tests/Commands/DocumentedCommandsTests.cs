using Gatehouse.Edge.Commands;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Commands;

/// <summary>Every `gatehouse-edge …` command that README.md, docs/ and deploy/ give parses with the program's own command line.</summary>
public sealed class DocumentedCommandsTests : DocumentedCommandsContract
{
    protected override string Program => "gatehouse-edge";

    protected override int AtLeast => 5;

    protected override IReadOnlyList<string> Problems(string[] arguments) => [.. EdgeCommand.Build(TextWriter.Null, TextWriter.Null).Parse(arguments).Errors.Select(e => e.Message)];
}
