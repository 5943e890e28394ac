using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Cli.Terminal;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Admins;

/// <summary><c>gatehouse admin password|list|create|delete</c>.</summary>
internal static class AdminCommand
{
    public static Command Build(CliApp app)
    {
        var admin = CliApp.Noun("admin", "admins", "Administrators of the tenant");

        admin.Subcommands.Add(app.Action(new Command("password",
            "Change your password (prompted on a terminal; else two lines on stdin: current, then new)"), async run =>
        {
            var secrets = new SecretReader(run.Environment);
            string current, chosen;
            if (run.Environment.IsInteractive)
            {
                current = secrets.Prompt("current password: ");
                chosen = secrets.Prompt("new password: ");
                if (secrets.Prompt("new password again: ") != chosen)
                {
                    throw new CliException(ExitCodes.BadInput, "the new passwords differ; nothing changed");
                }
            }
            else
            {
                current = secrets.ReadLine("current password");
                chosen = secrets.ReadLine("new password");
            }
            await run.Client.SendAsync(HttpMethod.Post, "auth/password", new ChangePasswordRequest(current, chosen), run.Cancellation);
            run.Environment.Stdout.WriteLine("password changed");
        }));

        admin.Subcommands.Add(app.List<AdminDto>("List admins", _ => "admins",
            () => new Table("ID", "EMAIL", "ROLE", "OPERATOR", "CREATED"),
            (t, a) => t.Row(a.Id, a.Email, a.Role, a.IsOperator, a.CreatedAt)));

        var email = new Option<string>("--email") { Description = "The new admin's email", Required = true };
        var role = new Option<string>("--role") { Description = "owner, admin or auditor", Required = true };
        role.AcceptOnlyFromAmong([.. AdminRoles.All]);
        admin.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Add an admin; prints a one-time password") { email, role }), async run =>
        {
            var created = await run.Client.SendAsync<CreateAdminResponse>(HttpMethod.Post, "admins",
                new CreateAdminRequest(run.Require(email), run.Require(role)), run.Cancellation);
            run.Out.One(created, (w, c) =>
            {
                run.Environment.Stderr.WriteLine($"admin {c.Admin.Email} ({c.Admin.Role}) created: {c.Admin.Id}; one-time password (shown once):");
                w.WriteLine(c.OneTimePassword);
            });
        }));

        admin.Subcommands.Add(app.Delete("delete", "Remove an admin", "admins", "admin"));
        return admin;
    }
}
