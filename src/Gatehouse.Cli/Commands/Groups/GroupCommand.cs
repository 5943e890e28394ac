using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Groups;

/// <summary><c>gatehouse group list|create|delete</c>.</summary>
internal static class GroupCommand
{
    public static Command Build(CliApp app)
    {
        var group = CliApp.Noun("group", "groups", "Groups of users");

        group.Subcommands.Add(app.List<GroupDto>("List groups", _ => "groups",
            () => new Table("ID", "NAME", "DESCRIPTION", "CREATED"),
            (t, g) => t.Row(g.Id, g.Name, g.Description, g.CreatedAt)));

        var name = new Option<string>("--name") { Description = "The group's name", Required = true };
        var description = new Option<string>("--description") { Description = "Free text" };
        group.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Create a group") { name, description }), async run =>
        {
            var created = await run.Client.SendAsync<GroupDto>(HttpMethod.Post, "groups",
                new CreateGroupRequest(run.Require(name), run.Get(description)), run.Cancellation);
            run.Out.One(created, (w, g) => w.WriteLine($"group {g.Name} created: {g.Id}"));
        }));

        var target = new Argument<string>("NAME_OR_ID") { Description = "The group's name or id" };
        group.Subcommands.Add(app.Action(new Command("delete", "Delete a group") { target }, async run =>
        {
            var id = await NameLookup.GroupIdAsync(run, run.Require(target));
            await run.Client.SendAsync(HttpMethod.Delete, $"groups/{id}", null, run.Cancellation);
            run.Environment.Stdout.WriteLine($"group {id} deleted");
        }));
        return group;
    }
}
