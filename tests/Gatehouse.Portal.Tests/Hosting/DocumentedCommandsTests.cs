using Gatehouse.Portal.Hosting;
using Gatehouse.Testing;

namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>Every `gatehouse-portal …` command that README.md, docs/ and deploy/ give parses with the program's own command line.</summary>
public sealed class DocumentedCommandsTests : DocumentedCommandsContract
{
    protected override string Program => "gatehouse-portal";

    protected override int AtLeast => 3;

    protected override IReadOnlyList<string> Problems(string[] arguments) => PortalHost.CommandLineProblem(arguments) is { } problem ? [problem] : [];
}
