using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Audit;

/// <summary><c>gatehouse audit list</c>: who changed what, newest first as the portal orders it.</summary>
internal static class AuditCommand
{
    public static Command Build(CliApp app)
    {
        var audit = CliApp.Noun("audit", "audits", "The audit log of admin changes");
        var action = new Option<string>("--action") { Description = "Only this action; `user.` matches every user action" };
        var actor = new Option<string>("--actor") { Description = "Only changes by this admin", HelpName = "EMAIL" };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Only changes at or after this time (ISO 8601; UTC unless a zone is given)", HelpName = "ISO8601", CustomParser = Times.ParseOption };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Only changes before this time (ISO 8601; UTC unless a zone is given)", HelpName = "ISO8601", CustomParser = Times.ParseOption };
        audit.Subcommands.Add(app.List<AuditEntryDto>("List audit entries",
            run => CliApp.Query("audit", ("action", run.Get(action)), ("actor", run.Get(actor)), ("since", Times.Iso(run.Get(since))), ("until", Times.Iso(run.Get(until)))),
            () => new Table("AT", "ACTOR", "ACTION", "OBJECT", "ID"),
            (t, e) => t.Row(e.At, e.Actor, e.Action, e.ObjectType, e.ObjectId),
            action, actor, since, until));
        return audit;
    }
}
