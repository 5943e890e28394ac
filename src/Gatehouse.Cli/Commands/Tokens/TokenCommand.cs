using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Tokens;

/// <summary><c>gatehouse token list|create|revoke</c>: API tokens of the signed-in admin.</summary>
internal static class TokenCommand
{
    public static Command Build(CliApp app)
    {
        var token = CliApp.Noun("token", "tokens", "API tokens for scripts");

        token.Subcommands.Add(app.List<ApiTokenDto>("List API tokens", _ => "tokens",
            () => new Table("ID", "NAME", "SCOPES", "CREATED", "EXPIRES", "LAST USED", "REVOKED"),
            (t, x) => t.Row(x.Id, x.Name, x.Scopes, x.CreatedAt, x.ExpiresAt, x.LastUsedAt, x.Revoked)));

        var name = new Option<string>("--name") { Description = "What the token is for", Required = true };
        var scopes = new Option<string[]>("--scope") { Description = "read or write; repeat for both (default: read)" };
        scopes.AcceptOnlyFromAmong([.. TokenScopes.All]);
        var days = new Option<int?>("--days") { Description = "Expires after N days (default: the portal's)", HelpName = "N" };
        token.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Create an API token; prints it once on stdout") { name, scopes, days }), async run =>
        {
            var scope = run.Get(scopes) is { Length: > 0 } given ? given.Distinct().ToList() : [TokenScopes.Read];
            var created = await run.Client.SendAsync<CreateApiTokenResponse>(HttpMethod.Post, "tokens",
                new CreateApiTokenRequest(run.Require(name), scope, run.Get(days)), run.Cancellation);
            run.Out.One(created, (w, c) =>
            {
                run.Environment.Stderr.WriteLine($"token {c.ApiToken.Name} ({string.Join(',', c.ApiToken.Scopes)}) created: {c.ApiToken.Id}; it is shown once:");
                w.WriteLine(c.Token);
            });
        }));

        token.Subcommands.Add(app.Delete("revoke", "Revoke an API token", "tokens", "token"));
        return token;
    }
}
