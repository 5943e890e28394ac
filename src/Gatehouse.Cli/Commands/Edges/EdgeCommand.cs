using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Edges;

/// <summary><c>gatehouse edge list</c>: enrolled service edges.</summary>
internal static class EdgeCommand
{
    public static Command Build(CliApp app)
    {
        var edge = CliApp.Noun("edge", "edges", "Service edges");
        edge.Subcommands.Add(app.List<EdgeDto>("List service edges", _ => "edges",
            () => new Table("ID", "NAME", "ADDRESS", "STATUS", "CERT EXPIRES", "LAST SEEN"),
            (t, e) => t.Row(e.Id, e.Name, e.Address, e.Status, e.CertificateNotAfter, e.LastSeenAt)));
        return edge;
    }
}
