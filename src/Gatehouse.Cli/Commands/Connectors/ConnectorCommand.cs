using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Connectors;

/// <summary><c>gatehouse connector list</c>: enrolled app connectors.</summary>
internal static class ConnectorCommand
{
    public static Command Build(CliApp app)
    {
        var connector = CliApp.Noun("connector", "connectors", "App connectors");
        connector.Subcommands.Add(app.List<ConnectorDto>("List app connectors", _ => "connectors",
            () => new Table("ID", "NAME", "CONNECTOR GROUP", "STATUS", "CERT EXPIRES", "LAST SEEN"),
            (t, c) => t.Row(c.Id, c.Name, c.ConnectorGroupId, c.Status, c.CertificateNotAfter, c.LastSeenAt)));
        return connector;
    }
}
