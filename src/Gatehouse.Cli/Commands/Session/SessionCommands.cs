using System.CommandLine;
using Gatehouse.Cli.Connection;
using Gatehouse.Cli.Output;
using Gatehouse.Cli.Terminal;
using Gatehouse.Wire.Api;

namespace Gatehouse.Cli.Commands.Session;

/// <summary><c>gatehouse login</c>, <c>logout</c> and <c>whoami</c>: who the CLI is to the portal.</summary>
internal static class SessionCommands
{
    public static IEnumerable<Command> Build(CliApp app)
    {
        yield return Login(app);
        yield return Logout(app);
        yield return WhoAmI(app);
    }

    private static Command Login(CliApp app)
    {
        var email = new Option<string>("--email") { Description = "Sign in as this admin (password prompted, or --password-stdin, or GATEHOUSE_PASSWORD)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from one line of stdin" };
        var token = new Option<string>("--token") { Description = "Use this API token instead of a session", HelpName = "TOKEN" };
        var login = new Command("login", "Sign in to a portal and remember it in the CLI config") { email, passwordStdin, token };
        login.Validators.Add(r =>
        {
            if ((r.GetValue(email) is null) == (r.GetValue(token) is null))
            {
                r.AddError("give either --email or --token");
            }
        });

        return app.Action(login, async run =>
        {
            var stored = run.ConfigStore.Load();
            // Credentials are never carried over to a login: this one replaces them.
            var settings = run.Settings(stored) with { Token = null, Session = null };
            var config = new CliConfig { Portal = settings.Portal.ToString(), CaFile = settings.CaFile, Insecure = settings.Insecure };

            if (run.Get(token) is { } apiToken)
            {
                var client = run.ClientFor(settings with { Token = apiToken });
                var me = (await client.GetAsync<WhoAmIResponse>("auth/whoami", run.Cancellation)).Value;
                run.ConfigStore.Save(config with { Token = apiToken });
                run.Environment.Stdout.WriteLine($"signed in to {me.TenantName} as {me.Admin.Email} ({me.Admin.Role}) with an API token");
                return;
            }

            var password = ReadPassword(run, run.Get(passwordStdin));
            var (session, cookie) = await run.ClientFor(settings).LoginAsync(new LoginRequest(run.Require(email), password), run.Cancellation);
            var credentials = new SessionCredentials(cookie, session.CsrfToken, session.Admin.Email, session.ExpiresAt);
            run.ConfigStore.Save(config with { Session = credentials });
            run.Environment.Stdout.WriteLine($"signed in as {session.Admin.Email} ({session.Admin.Role}) until {Table.Cell(session.ExpiresAt)}");

            // An admin with a one-time password may only call /auth/*: a read tells.
            try
            {
                await run.ClientFor(settings with { Session = credentials }).GetAsync<TenantDetailsDto>("tenant", run.Cancellation);
            }
            catch (CliException e) when (e.Status == 403 && PortalClient.IsOneTimePassword(e.Message))
            {
                run.Environment.Stderr.WriteLine("your password is a one-time password: run `gatehouse admin password` to choose your own before anything else");
            }
        });
    }

    private static string ReadPassword(Invocation run, bool fromStdin)
    {
        var secrets = new SecretReader(run.Environment);
        if (fromStdin)
        {
            return secrets.ReadLine("password");
        }
        if (run.Environment.Variable("GATEHOUSE_PASSWORD") is { } password)
        {
            return password;
        }
        return run.Environment.IsInteractive
            ? secrets.Prompt("password: ")
            : throw new CliException(ExitCodes.Usage, "stdin is not a terminal: use --password-stdin or GATEHOUSE_PASSWORD");
    }

    private static Command Logout(CliApp app) => app.Action(new Command("logout", "End the session and forget the stored credentials"), async run =>
    {
        var config = run.ConfigStore.Load();
        if (config.Session is not null && config.Portal is not null)
        {
            try
            {
                var settings = new ConnectionSettings(ConnectionSettings.ParsePortal(config.Portal), config.CaFile, config.Insecure, Token: null, config.Session);
                await run.ClientFor(settings).SendAsync(HttpMethod.Post, "auth/logout", null, run.Cancellation);
            }
            catch (CliException e) when (e.ExitCode is ExitCodes.NotAuthorized or ExitCodes.Unreachable)
            {
                // The session is already over, or the portal is away: forgetting it locally is what matters.
                run.Environment.Stderr.WriteLine($"warning: {e.Message}");
            }
        }
        run.ConfigStore.Save(config with { Token = null, Session = null });
        run.Environment.Stdout.WriteLine("signed out");
    });

    private static Command WhoAmI(CliApp app) => app.Action(app.WithJson(new Command("whoami", "Show who the CLI is signed in as")), async run =>
    {
        var me = await run.Client.GetAsync<WhoAmIResponse>("auth/whoami", run.Cancellation);
        run.Out.One(me, (w, m) => ResultPrinter.Fields(w,
            ("portal", run.Client.Settings.Portal), ("email", m.Admin.Email), ("role", m.Admin.Role), ("operator", m.Admin.IsOperator),
            ("tenant", $"{m.TenantName} ({m.TenantId})"), ("signed in by", m.AuthenticatedBy), ("scopes", m.Scopes)));
    });
}
