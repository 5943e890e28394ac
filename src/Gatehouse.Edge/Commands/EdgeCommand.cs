using System.CommandLine;
using Gatehouse.Edge.Hosting;
using Gatehouse.Node;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Trust.Certificates;

namespace Gatehouse.Edge.Commands;

/// <summary>The <c>gatehouse-edge</c> command line: <c>enroll</c> and <c>run</c>.</summary>
public static class EdgeCommand
{
    /// <summary>Runs one command line on the console; returns the exit code (<see cref="EdgeExitCodes"/>).</summary>
    /// <param name="args">The arguments.</param>
    public static Task<int> RunAsync(string[] args) => RunAsync(args, Console.Out, Console.Error, CancellationToken.None);

    /// <summary>Runs one command line on the given writers; returns the exit code (<see cref="EdgeExitCodes"/>).</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="ct">Stops <c>run</c> (as SIGTERM does) and cancels <c>enroll</c>.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var root = Build(stdout, stderr);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}");
            }

            await stderr.WriteLineAsync("run `gatehouse-edge --help` for usage");
            return EdgeExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, ct);
    }

    internal static RootCommand Build(TextWriter stdout, TextWriter stderr)
    {
        var stateDir = StateDirectoryOption();
        var root = new RootCommand("gatehouse-edge: the Gatehouse service edge.");
        root.Subcommands.Add(BuildEnroll(stateDir, stdout, stderr));
        root.Subcommands.Add(BuildRun(stateDir, stdout, stderr));
        return root;
    }

    /// <summary>The options <c>run</c> would start the edge with, without starting it.</summary>
    /// <param name="args">What follows <c>run</c> on the command line.</param>
    /// <param name="errors">One message per problem, as <c>run</c> prints them; empty when the options are good.</param>
    internal static EdgeOptions? ReadRunOptions(string[] args, out IReadOnlyList<string> errors)
    {
        var flags = new RunFlags(StateDirectoryOption());
        var run = new Command("run");
        foreach (var option in flags.All)
        {
            run.Options.Add(option);
        }

        var parse = run.Parse(args);
        if (parse.Errors.Count > 0)
        {
            errors = [.. parse.Errors.Select(e => e.Message)];
            return null;
        }

        return flags.Read(parse, out errors);
    }

    private static Option<string> StateDirectoryOption() => new("--state-dir")
    {
        Description = $"The edge's credential directory (default {EdgeOptions.DefaultStateDirectory}).",
        DefaultValueFactory = _ => EdgeOptions.DefaultStateDirectory,
    };

    private static Command BuildEnroll(Option<string> stateDir, TextWriter stdout, TextWriter stderr)
    {
        var portal = new Option<string>("--portal") { Description = "The portal's base address (https://…).", Required = true };
        var portalCa = new Option<FileInfo?>("--portal-ca") { Description = "PEM file of the portal's TLS certificate (or its CA) to pin; the system roots when left out." };
        var key = new Option<string>("--provisioning-key") { Description = "A provisioning key for edges, made by an admin.", Required = true };
        var name = new Option<string>("--name") { Description = "This edge's name, as admins see it.", Required = true };
        var address = new Option<string>("--address") { Description = "Where agents reach this edge, HOST:PORT.", Required = true };
        var enroll = new Command("enroll", "Enroll this edge with the portal and save its credentials in the state directory.")
        {
            portal, portalCa, key, name, address, stateDir,
        };
        enroll.SetAction(async (parse, ct) =>
        {
            var store = new NodeCredentialStore(parse.GetValue(stateDir)!);
            if (!Uri.TryCreate(parse.GetValue(portal), UriKind.Absolute, out var portalUrl) || portalUrl.Scheme != Uri.UriSchemeHttps)
            {
                await stderr.WriteLineAsync($"error: --portal must be an https:// address, not \"{parse.GetValue(portal)}\"");
                return EdgeExitCodes.Usage;
            }

            try
            {
                var caFile = parse.GetValue(portalCa);
                var trust = caFile is null ? PortalTrust.SystemRoots : PortalTrust.Pinned(await File.ReadAllTextAsync(caFile.FullName, ct));
                using var credentials = await new NodeEnrollment().EnrollServiceAsync(
                    store, IdentityKinds.Edge, portalUrl, trust, parse.GetValue(key)!, parse.GetValue(name)!, parse.GetValue(address), ct);
                var identity = credentials.Identity;
                await stdout.WriteLineAsync($"enrolled edge {parse.GetValue(name)} ({identity.SubjectId}) in tenant {identity.TenantId}");
                await stdout.WriteLineAsync($"credentials saved in {store.Directory}; certificate valid until {credentials.NotAfter:u}");
                await stdout.WriteLineAsync($"start it with: gatehouse-edge run --state-dir {store.Directory}");
                return EdgeExitCodes.Ok;
            }
            catch (NodeException e)
            {
                await stderr.WriteLineAsync($"error: enrollment failed: {e.Message}");
                return e.Reason == NodeErrorReason.Refused ? EdgeExitCodes.Refused : EdgeExitCodes.Failed;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or System.Security.Cryptography.CryptographicException)
            {
                await stderr.WriteLineAsync($"error: enrollment failed: {e.Message}");
                return EdgeExitCodes.Failed;
            }
        });
        return enroll;
    }

    private static Command BuildRun(Option<string> stateDir, TextWriter stdout, TextWriter stderr)
    {
        var flags = new RunFlags(stateDir);
        var run = new Command("run", "Run the edge: follow the portal's config, keep its policy in force, serve the forward proxy and write transaction logs.");
        foreach (var option in flags.All)
        {
            run.Options.Add(option);
        }

        run.SetAction(async (parse, ct) =>
        {
            if (flags.Read(parse, out var errors) is not { } options)
            {
                foreach (var error in errors)
                {
                    await stderr.WriteLineAsync($"error: {error}");
                }

                return EdgeExitCodes.Usage;
            }

            RunningEdge edge;
            try
            {
                edge = await EdgeHost.StartAsync(options, ct);
            }
            catch (NodeException e) when (e.Reason == NodeErrorReason.NotEnrolled)
            {
                await stderr.WriteLineAsync($"error: {e.Message}");
                return EdgeExitCodes.Refused;
            }
            catch (Exception e) when (e is NodeException or IOException)
            {
                await stderr.WriteLineAsync($"error: the edge did not start: {e.Message}");
                return EdgeExitCodes.Failed;
            }

            await using (edge)
            {
                await stdout.WriteLineAsync($"edge {edge.Identity.SubjectId} running; /healthz and /metrics on {edge.OpsAddress}");
                if (edge.TunnelAddress is { } tunnelAt)
                {
                    await stdout.WriteLineAsync($"agent tunnels (HTTP/2, mutual TLS) on {tunnelAt}");
                }

                if (edge.ProxyAddress is { } proxyAt)
                {
                    await stdout.WriteLineAsync($"forward proxy on {proxyAt} (PAC file: http://{proxyAt}/proxy.pac)");
                }

                await edge.WaitForShutdownAsync(ct);
            }

            return EdgeExitCodes.Ok;
        });
        return run;
    }
}
