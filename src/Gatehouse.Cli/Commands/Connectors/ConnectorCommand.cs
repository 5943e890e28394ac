using System.CommandLine;
using Gatehouse.Cli.Connection;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Connectors;

/// <summary><c>gatehouse connector list|health|revoke</c>: enrolled app connectors and their servers' health.</summary>
internal static class ConnectorCommand
{
    public static Command Build(CliApp app)
    {
        var connector = CliApp.Noun("connector", "connectors", "App connectors");
        connector.Subcommands.Add(app.List<ConnectorDto>("List app connectors", _ => "connectors",
            () => new Table("ID", "NAME", "CONNECTOR GROUP", "STATUS", "EDGES", "FLOWS", "SERVERS UP", "LAST SEEN"),
            async run =>
            {
                // The table names each connector's group; --json keeps the id.
                var groups = (await run.Client.ListAsync<ConnectorGroupDto>("connector-groups", null, run.Cancellation)).Value.ToDictionary(g => g.Id, g => g.Name);
                return (t, c) => t.Row(c.Id, c.Name, groups.GetValueOrDefault(c.ConnectorGroupId, c.ConnectorGroupId.ToString()), c.Status, c.Health?.Edges.Count, c.Health?.ActiveFlows,
                    c.Health is { } h ? $"{h.Servers.Count(s => s.Healthy)}/{h.Servers.Count}" : null, c.LastSeenAt);
            }));

        var target = new Argument<Guid>("ID") { Description = "The connector's id" };
        connector.Subcommands.Add(app.Action(app.WithJson(new Command("health", "The app servers a connector checks, as it last reported them") { target }), async run =>
        {
            var found = await run.Client.GetAsync<ConnectorDto>($"connectors/{run.Get(target)}", run.Cancellation);
            var servers = found.Value.Health?.Servers ?? [];
            run.Out.List(new ApiResult<IReadOnlyList<Wire.Tunnel.ServerHealthDto>>(servers, System.Text.Json.JsonSerializer.SerializeToNode(servers, PortalClient.Json)),
                () => new Table("SEGMENT", "SERVER", "ADDRESS", "PORT", "HEALTHY", "DETAIL", "CHECKED"),
                (t, s) => t.Row(s.Segment, s.Host, s.Address, s.Port, s.Healthy, s.Detail, s.CheckedAt));
        }));
        connector.Subcommands.Add(app.Revoke<ConnectorDto>(
            "Revoke an app connector: the portal refuses its certificate and edges stop sending it flows from their next bundle", "connectors", "connector", c => c.Name));
        return connector;
    }
}
