using System.CommandLine;
using Gatehouse.Connector.Hosting;
using Gatehouse.Flows;
using Gatehouse.Node;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Trust.Certificates;

namespace Gatehouse.Connector.Commands;

/// <summary>Exit codes of <c>gatehouse-connector</c>: 0 ok, 1 failed, 2 usage, 3 refused (not enrolled, or the portal said no).</summary>
public static class ConnectorExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Failed (the portal unreachable, a file unreadable).</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    /// <summary>Not enrolled, or the portal refused the enrollment.</summary>
    public const int Refused = 3;
}

/// <summary>The <c>gatehouse-connector</c> command line: <c>enroll</c> and <c>run</c>.</summary>
public static class ConnectorCommand
{
    /// <summary>Runs one command line on the console.</summary>
    /// <param name="args">The arguments.</param>
    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error, CancellationToken.None);

    /// <summary>Runs one command line on the given writers; returns the exit code (<see cref="ConnectorExitCodes"/>).</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="ct">Stops <c>run</c> (as SIGTERM does) and cancels <c>enroll</c>.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var parse = Build(stdout, stderr).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}");
            }

            await stderr.WriteLineAsync("run `gatehouse-connector --help` for usage");
            return ConnectorExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, ct);
    }

    /// <summary>The command line: <c>enroll</c>, <c>run</c> and <c>sample-app</c>.</summary>
    internal static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var stateDir = new Option<string>("--state-dir")
        {
            Description = $"The connector's credential directory (default {ConnectorOptions.DefaultStateDirectory}).",
            DefaultValueFactory = _ => ConnectorOptions.DefaultStateDirectory,
        };
        var root = new RootCommand("gatehouse-connector: the Gatehouse app connector. It dials out to the edges and carries their flows to private apps.");
        root.Subcommands.Add(BuildEnroll(stateDir, stdout, stderr));
        root.Subcommands.Add(BuildRun(stateDir, stdout, stderr));
        root.Subcommands.Add(BuildSampleApp(stdout, stderr));
        return root;
    }

    private static Command BuildEnroll(Option<string> stateDir, TextWriter stdout, TextWriter stderr)
    {
        var portal = new Option<string>("--portal") { Description = "The portal's base address (https://…).", Required = true };
        var portalCa = new Option<FileInfo?>("--portal-ca") { Description = "PEM file of the portal's TLS certificate (or its CA) to pin; the system roots when left out." };
        var key = new Option<string>("--provisioning-key") { Description = "A provisioning key for connectors (it names the connector group), made by an admin.", Required = true };
        var name = new Option<string>("--name") { Description = "This connector's name, as admins see it.", Required = true };
        var enroll = new Command("enroll", "Enroll this connector with the portal and save its credentials in the state directory.")
        {
            portal, portalCa, key, name, stateDir,
        };
        enroll.SetAction(async (parse, ct) =>
        {
            var store = new NodeCredentialStore(parse.GetValue(stateDir)!);
            if (!Uri.TryCreate(parse.GetValue(portal), UriKind.Absolute, out var portalUrl) || portalUrl.Scheme != Uri.UriSchemeHttps)
            {
                await stderr.WriteLineAsync($"error: --portal must be an https:// address, not \"{parse.GetValue(portal)}\"");
                return ConnectorExitCodes.Usage;
            }

            try
            {
                var caFile = parse.GetValue(portalCa);
                var trust = caFile is null ? PortalTrust.SystemRoots : PortalTrust.Pinned(await File.ReadAllTextAsync(caFile.FullName, ct));
                using var credentials = await new NodeEnrollment().EnrollServiceAsync(
                    store, IdentityKinds.Connector, portalUrl, trust, parse.GetValue(key)!, parse.GetValue(name)!, null, ct);
                var identity = credentials.Identity;
                await stdout.WriteLineAsync($"enrolled connector {parse.GetValue(name)} ({identity.SubjectId}) in tenant {identity.TenantId}");
                await stdout.WriteLineAsync($"credentials saved in {store.Directory}; certificate valid until {credentials.NotAfter:u}");
                await stdout.WriteLineAsync($"start it with: gatehouse-connector run --state-dir {store.Directory}");
                return ConnectorExitCodes.Ok;
            }
            catch (NodeException e)
            {
                await stderr.WriteLineAsync($"error: enrollment failed: {e.Message}");
                return e.Reason == NodeErrorReason.Refused ? ConnectorExitCodes.Refused : ConnectorExitCodes.Failed;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                await stderr.WriteLineAsync($"error: enrollment failed: {e.Message}");
                return ConnectorExitCodes.Failed;
            }
        });
        return enroll;
    }

    private static Command BuildSampleApp(TextWriter stdout, TextWriter stderr)
    {
        var listen = new Option<string>("--listen") { Description = "ADDRESS:PORT to serve on (default 127.0.0.1:7480).", DefaultValueFactory = _ => "127.0.0.1:7480" };
        var command = new Command("sample-app", "Serve a one-page web app that says who reached it: a private app to try the connector with.") { listen };
        command.SetAction(async (parse, ct) =>
        {
            if (!System.Net.IPEndPoint.TryParse(parse.GetValue(listen)!, out var endpoint) || endpoint.Port == 0)
            {
                await stderr.WriteLineAsync($"error: --listen must be ADDRESS:PORT, not \"{parse.GetValue(listen)}\"");
                return ConnectorExitCodes.Usage;
            }

            await using var app = SampleApp.Create(endpoint);
            await app.StartAsync(ct);
            await stdout.WriteLineAsync($"sample private app on http://{endpoint}/");
            await app.WaitForShutdownAsync(ct);
            return ConnectorExitCodes.Ok;
        });
        return command;
    }

    private static Command BuildRun(Option<string> stateDir, TextWriter stdout, TextWriter stderr)
    {
        var edges = new Option<string[]>("--edge") { Description = "Link to this edge, HOST:PORT, instead of the edges the bundle lists; repeatable." };
        var allowEgress = new Option<string[]>("--allow-egress") { Description = "A range the connector may reach although egress safety refuses it (loopback, link-local, its own addresses); repeatable." };
        var healthInterval = new Option<int>("--health-interval") { Description = "Seconds between health checks of the app servers (default 5).", DefaultValueFactory = _ => 5 };
        var resolve = new Option<string[]>("--resolve") { Description = "NAME=ADDRESS: resolve NAME to ADDRESS before asking DNS (a lab without a private DNS); repeatable." };
        var run = new Command("run", "Run the connector: follow the portal's config, link to the edges, carry their flows to the private apps.")
        {
            stateDir, edges, allowEgress, healthInterval, resolve,
        };
        run.SetAction(async (parse, ct) =>
        {
            ConnectorOptions options;
            try
            {
                var interval = parse.GetValue(healthInterval);
                if (interval is < 1 or > 3600)
                {
                    throw new FormatException($"--health-interval must be 1 to 3600 seconds; got {interval}");
                }

                var names = StaticNames.Parse(parse.GetValue(resolve) ?? []);
                options = new ConnectorOptions
                {
                    StateDirectory = parse.GetValue(stateDir)!,
                    ResolveHost = names.Count == 0 ? null : names.ResolveAsync,
                    Edges = parse.GetValue(edges) is { Length: > 0 } pinned ? pinned : null,
                    EgressAllow = [.. (parse.GetValue(allowEgress) ?? []).Select(r => EgressGuard.ParseRange(r, "--allow-egress"))],
                    HealthInterval = TimeSpan.FromSeconds(interval),
                };
            }
            catch (FormatException e)
            {
                await stderr.WriteLineAsync($"error: {e.Message}");
                return ConnectorExitCodes.Usage;
            }

            RunningConnector connector;
            try
            {
                connector = await ConnectorHost.StartAsync(options, ct);
            }
            catch (NodeException e) when (e.Reason == NodeErrorReason.NotEnrolled)
            {
                await stderr.WriteLineAsync($"error: {e.Message}");
                return ConnectorExitCodes.Refused;
            }
            catch (Exception e) when (e is NodeException or IOException)
            {
                await stderr.WriteLineAsync($"error: the connector did not start: {e.Message}");
                return ConnectorExitCodes.Failed;
            }

            await using (connector)
            {
                await stdout.WriteLineAsync($"connector {connector.Identity.SubjectId} running; linking to {(options.Edges is { } pinned ? string.Join(", ", pinned) : "the edges of its bundle")}");
                await connector.WaitForShutdownAsync(ct);
            }

            return ConnectorExitCodes.Ok;
        });
        return run;
    }
}
