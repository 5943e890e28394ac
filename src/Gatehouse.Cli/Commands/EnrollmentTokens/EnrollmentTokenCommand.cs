using System.CommandLine;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.EnrollmentTokens;

/// <summary><c>gatehouse enrollment-token list|create|revoke</c>: secrets that enroll devices.</summary>
internal static class EnrollmentTokenCommand
{
    public static Command Build(CliApp app)
    {
        var token = CliApp.Noun("enrollment-token", "enrollment-tokens", "Tokens that enroll devices");

        token.Subcommands.Add(app.List<EnrollmentTokenDto>("List enrollment tokens", _ => "enrollment-tokens",
            () => new Table("ID", "DESCRIPTION", "USER", "CREATED", "EXPIRES", "USES", "REVOKED"),
            (t, x) => t.Row(x.Id, x.Description, x.UserId, x.CreatedAt, x.ExpiresAt, $"{x.UseCount}/{x.MaxUses}", x.Revoked)));

        var user = new Option<string>("--user") { Description = "Bind the token to this user (email or id)", HelpName = "EMAIL" };
        var hours = new Option<int?>("--hours") { Description = "Expires after N hours (default: the portal's)", HelpName = "N" };
        var uses = new Option<int?>("--uses") { Description = "Enrolls at most N devices (default: the portal's)", HelpName = "N" };
        var description = new Option<string>("--description") { Description = "Free text" };
        token.Subcommands.Add(app.Action(app.WithJson(new Command("create", "Create an enrollment token; prints it once on stdout") { user, hours, uses, description }), async run =>
        {
            Guid? userId = run.Get(user) is { } who ? (await NameLookup.UserAsync(run, who)).Id : null;
            var created = await run.Client.SendAsync<CreateEnrollmentTokenResponse>(HttpMethod.Post, "enrollment-tokens",
                new CreateEnrollmentTokenRequest(run.Get(description), userId, run.Get(hours), run.Get(uses)), run.Cancellation);
            run.Out.One(created, (w, c) =>
            {
                run.Environment.Stderr.WriteLine($"enrollment token {c.EnrollmentToken.Id} created, expires {Table.Cell(c.EnrollmentToken.ExpiresAt)}; it is shown once:");
                w.WriteLine(c.Token);
            });
        }));

        token.Subcommands.Add(app.Delete("revoke", "Revoke an enrollment token", "enrollment-tokens", "enrollment token"));
        return token;
    }
}
