using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Users;

/// <summary>
/// <c>gatehouse user list|create|show|update|delete</c> and <c>gatehouse user proxy-credential …</c>; users are
/// named by id or email, groups by name or id.
/// </summary>
internal static partial class UserCommand
{
    public static Command Build(CliApp app)
    {
        var user = CliApp.Noun("user", "users", "Users whose devices run the agent");

        var emailFilter = new Option<string>("--email") { Description = "Only the user with this email" };
        user.Subcommands.Add(app.List<UserDto>("List users", run => CliApp.Query("users", ("email", run.Get(emailFilter))),
            () => new Table("ID", "EMAIL", "NAME", "DISABLED", "GROUPS", "CREATED"),
            (t, u) => t.Row(u.Id, u.Email, u.DisplayName, u.Disabled, u.GroupIds.Count, u.CreatedAt),
            emailFilter));

        var email = new Option<string>("--email") { Description = "The user's email", Required = true };
        var name = new Option<string>("--name") { Description = "Display name" };
        var groups = new Option<string[]>("--group") { Description = "A group (name or id); repeat for several", HelpName = "NAME_OR_ID" };
        user.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Create a user") { email, name, groups }), async run =>
        {
            var groupIds = run.Get(groups) is { Length: > 0 } g ? await NameLookup.GroupIdsAsync(run, g) : null;
            var created = await run.Client.SendAsync<UserDto>(HttpMethod.Post, "users",
                new CreateUserRequest(run.Require(email), run.Get(name), groupIds), run.Cancellation);
            run.Out.One(created, (w, u) => w.WriteLine($"user {u.Email} created: {u.Id}"));
        }));

        var target = new Argument<string>("ID_OR_EMAIL") { Description = "The user's id or email" };
        user.Subcommands.Add(app.Action(app.WithJson(new Command("show", "Show a user") { target }), async run =>
        {
            var found = await NameLookup.UserAsync(run, run.Require(target));
            var shown = await run.Client.GetAsync<UserDto>($"users/{found.Id}", run.Cancellation);
            run.Out.One(shown, (w, u) => ResultPrinter.Fields(w,
                ("id", u.Id), ("email", u.Email), ("name", u.DisplayName), ("disabled", u.Disabled),
                ("groups", u.GroupIds.Select(id => id.ToString())), ("created", u.CreatedAt)));
        }));

        var updateTarget = new Argument<string>("ID_OR_EMAIL") { Description = "The user's id or email" };
        var newName = new Option<string>("--name") { Description = "New display name" };
        var disable = new Option<bool>("--disable") { Description = "Refuse the user's devices" };
        var enable = new Option<bool>("--enable") { Description = "Allow the user's devices again" };
        var newGroups = new Option<string[]>("--group") { Description = "Replace the user's groups (name or id); repeat for several", HelpName = "NAME_OR_ID" };
        var update = new Command("update", "Change a user; what is not given stays") { updateTarget, newName, disable, enable, newGroups };
        update.Validators.Add(r =>
        {
            if (r.GetValue(disable) && r.GetValue(enable))
            {
                r.AddError("--disable and --enable cannot be given together");
            }
        });
        user.Subcommands.Add(app.Action(app.WithJson(update), async run =>
        {
            var found = await NameLookup.UserAsync(run, run.Require(updateTarget));
            bool? disabled = run.Get(disable) ? true : run.Get(enable) ? false : null;
            var groupIds = run.Get(newGroups) is { Length: > 0 } g ? await NameLookup.GroupIdsAsync(run, g) : null;
            var updated = await run.Client.SendAsync<UserDto>(HttpMethod.Patch, $"users/{found.Id}",
                new UpdateUserRequest(run.Get(newName), disabled, groupIds), run.Cancellation);
            run.Out.One(updated, (w, u) => w.WriteLine($"user {u.Email} updated"));
        }));

        var deleteTarget = new Argument<string>("ID_OR_EMAIL") { Description = "The user's id or email" };
        user.Subcommands.Add(app.Action(new Command("delete", "Delete a user") { deleteTarget }, async run =>
        {
            var found = await NameLookup.UserAsync(run, run.Require(deleteTarget));
            await run.Client.SendAsync(HttpMethod.Delete, $"users/{found.Id}", null, run.Cancellation);
            run.Environment.Stdout.WriteLine($"user {found.Email} deleted");
        }));

        user.Subcommands.Add(ProxyCredentials(app));
        return user;
    }
}
