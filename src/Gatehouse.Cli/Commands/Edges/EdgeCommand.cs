using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Edges;

/// <summary><c>gatehouse edge list|revoke</c>: enrolled service edges.</summary>
internal static class EdgeCommand
{
    public static Command Build(CliApp app)
    {
        var edge = CliApp.Noun("edge", "edges", "Service edges");
        edge.Subcommands.Add(app.List<EdgeDto>("List service edges", _ => "edges",
            () => new Table("ID", "NAME", "ADDRESS", "STATUS", "CERT EXPIRES", "LAST SEEN"),
            (t, e) => t.Row(e.Id, e.Name, e.Address, e.Status, e.CertificateNotAfter, e.LastSeenAt)));
        edge.Subcommands.Add(app.Revoke<EdgeDto>(
            "Revoke an edge: the portal refuses its certificate, and agents and connectors drop it from their next bundle", "edges", "edge", e => e.Name));
        return edge;
    }
}
