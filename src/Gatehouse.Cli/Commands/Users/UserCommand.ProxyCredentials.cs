using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Users;

internal static partial class UserCommand
{
    /// <summary>
    /// <c>gatehouse user proxy-credential create|list|delete USER</c>: a user's credentials for the agentless
    /// forward proxy. The user name is the user's email; the password is printed once, alone on stdout.
    /// </summary>
    private static Command ProxyCredentials(CliApp app)
    {
        var credential = CliApp.Noun("proxy-credential", "proxy-credentials", "A user's credentials for the agentless forward proxy (the user name is the email)");

        var createUser = new Argument<string>("USER") { Description = "The user's id or email" };
        var description = new Option<string>("--description") { Description = "What or where the credential is used", HelpName = "D" };
        credential.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Make a proxy credential; prints its password once on stdout") { createUser, description }), async run =>
        {
            var user = await NameLookup.UserAsync(run, run.Require(createUser));
            var created = await run.Client.SendAsync<CreateProxyCredentialResponse>(HttpMethod.Post, $"users/{user.Id}/proxy-credentials",
                new CreateProxyCredentialRequest(run.Get(description)), run.Cancellation);
            run.Out.One(created, (w, c) =>
            {
                run.Environment.Stderr.WriteLine($"proxy credential {c.Credential.Id} created; user name {c.Credential.Username}, password (shown once):");
                w.WriteLine(c.Password);
            });
        }));

        var listUser = new Argument<string>("USER") { Description = "The user's id or email" };
        credential.Subcommands.Add(app.Action(app.WithJson(new Command("list", "List a user's proxy credentials (never their passwords)") { listUser }), async run =>
        {
            var user = await NameLookup.UserAsync(run, run.Require(listUser));
            run.Out.List(await run.ListAsync<ProxyCredentialDto>($"users/{user.Id}/proxy-credentials"),
                () => new Table("ID", "USERNAME", "DESCRIPTION", "CREATED"),
                (t, c) => t.Row(c.Id, c.Username, c.Description, c.CreatedAt));
        }));

        var deleteUser = new Argument<string>("USER") { Description = "The user's id or email" };
        var deleteId = new Argument<Guid>("CREDENTIAL_ID") { Description = "The credential's id (from `list`)" };
        credential.Subcommands.Add(app.Action(new Command("delete", "Delete a proxy credential: edges refuse it from their next bundle") { deleteUser, deleteId }, async run =>
        {
            var user = await NameLookup.UserAsync(run, run.Require(deleteUser));
            var id = run.Get(deleteId);
            await run.Client.SendAsync(HttpMethod.Delete, $"users/{user.Id}/proxy-credentials/{id}", null, run.Cancellation);
            run.Environment.Stdout.WriteLine($"proxy credential {id} of {user.Email} deleted");
        }));
        return credential;
    }
}
