using Gatehouse.Portal.Hosting;
using Gatehouse.Testing;

namespace Gatehouse.Portal.Tests.Hosting;

/// <summary>Every `gatehouse-portal …` command that README.md, docs/ and deploy/ give parses with the program's own command line.</summary>
public sealed class DocumentedCommandsTests : DocumentedCommandsContract
{
    protected override string Program => "gatehouse-portal";

    protected override int AtLeast => 3;

    public static TheoryData<string, string> Documented() => DocumentedCommandLines.InRepository("gatehouse-portal");

    [Theory]
    [MemberData(nameof(Documented))]
    public void A_documented_command_parses(string where, string line) => AssertParses(where, line);

    protected override IReadOnlyList<string> Problems(string[] arguments) => PortalHost.CommandLineProblem(arguments) is { } problem ? [problem] : [];
}
