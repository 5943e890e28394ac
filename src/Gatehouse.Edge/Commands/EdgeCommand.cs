using System.CommandLine;
using Gatehouse.Edge.Hosting;
using Gatehouse.Edge.TransactionLogs;
using Gatehouse.Flows;
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
        var stateDir = new Option<string>("--state-dir")
        {
            Description = $"The edge's credential directory (default {EdgeOptions.DefaultStateDirectory}).",
            DefaultValueFactory = _ => EdgeOptions.DefaultStateDirectory,
        };

        var root = new RootCommand("gatehouse-edge: the Gatehouse service edge.");
        root.Subcommands.Add(BuildEnroll(stateDir, stdout, stderr));
        root.Subcommands.Add(BuildRun(stateDir, stdout, stderr));
        return root;
    }

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
        var opsListen = new Option<string>("--ops-listen")
        {
            Description = $"Where /healthz and /metrics listen (default {EdgeOptions.DefaultOpsListen}).",
            DefaultValueFactory = _ => EdgeOptions.DefaultOpsListen,
        };
        var proxyListen = new Option<string>("--proxy-listen")
        {
            Description = $"Where the agentless forward proxy listens, ADDRESS:PORT, or \"off\" (default {EdgeOptions.DefaultProxyListen}).",
            DefaultValueFactory = _ => EdgeOptions.DefaultProxyListen,
        };
        var tunnelListen = new Option<string>("--tunnel-listen")
        {
            Description = $"Where the agent tunnel listener (HTTP/2, mutual TLS) listens, ADDRESS:PORT, or \"off\" (default {EdgeOptions.DefaultTunnelListen}).",
            DefaultValueFactory = _ => EdgeOptions.DefaultTunnelListen,
        };
        var proxyAddress = new Option<string?>("--proxy-address") { Description = "The proxy address clients use, HOST:PORT, written into the PAC file (default: the listen address)." };
        var allowEgress = new Option<string[]>("--allow-egress")
        {
            Description = "A range the edge may reach although egress safety refuses it (loopback, link-local, its own addresses); repeatable. Example: 127.0.0.0/8.",
            AllowMultipleArgumentsPerToken = false,
        };
        var managementNetwork = new Option<string[]>("--management-network") { Description = "The edge's own management network, refused as a destination; repeatable. Example: 10.20.0.0/16." };
        var logDir = new Option<string?>(TransactionLogOptions.DirectoryFlag) { Description = "Where transaction logs are written as rotating JSON-lines files, or \"off\" (default: logs/ in the state directory)." };
        var logMaxFileSize = new Option<string?>(TransactionLogOptions.MaxFileSizeFlag) { Description = "Rotate a log file at this size, for example 64MiB (default 64MiB)." };
        var logMaxFiles = new Option<string?>(TransactionLogOptions.MaxFilesFlag) { Description = "Rotated log files to keep (default 10)." };
        var logNoPortal = new Option<bool>(TransactionLogOptions.NoPortalFlag) { Description = "Do not ship transaction logs to the portal." };
        var syslog = new Option<string?>(TransactionLogOptions.SyslogFlag) { Description = "Stream transaction logs to a SIEM as RFC 5424 syslog over TCP, HOST:PORT." };
        var syslogFacility = new Option<string?>(TransactionLogOptions.SyslogFacilityFlag) { Description = "The syslog facility (default local0)." };
        var dr = new Option<bool>("--dr") { Description = "Disaster-recovery mode: enforce the tenant's DR policy (the DR bundle) instead of its policy; keeps working with no portal." };
        var drBundle = new Option<string?>("--dr-bundle") { Description = "A DR bundle from `gatehouse dr export`, put in force at start when newer than the one on disk (implies --dr)." };
        var noPrivateRelay = new Option<bool>("--no-private-relay") { Description = "Carry every private flow on the connector link's HTTP/2 stream instead of relaying agents' flows end to end (a new flow's first byte sooner, bulk slower)." };
        var run = new Command("run", "Run the edge: follow the portal's config, keep its policy in force, serve the forward proxy and write transaction logs.")
        {
            stateDir, opsListen, proxyListen, tunnelListen, proxyAddress, allowEgress, managementNetwork, logDir, logMaxFileSize, logMaxFiles, logNoPortal, syslog, syslogFacility, dr, drBundle, noPrivateRelay,
        };
        run.SetAction(async (parse, ct) =>
        {
            EdgeOptions options;
            try
            {
                var proxy = parse.GetValue(proxyListen)!;
                var logDirectory = parse.GetValue(logDir) ?? Path.Combine(parse.GetValue(stateDir)!, "logs");
                var logs = TransactionLogOptions.Parse(
                    directory: logDirectory == "off" ? null : logDirectory,
                    maxFileSize: parse.GetValue(logMaxFileSize),
                    maxFiles: parse.GetValue(logMaxFiles),
                    shipToPortal: !parse.GetValue(logNoPortal),
                    syslog: parse.GetValue(syslog),
                    syslogFacility: parse.GetValue(syslogFacility));
                options = new EdgeOptions
                {
                    StateDirectory = parse.GetValue(stateDir)!,
                    OpsListen = parse.GetValue(opsListen)!,
                    ProxyListen = proxy == "off" ? null : ListenAddress.Parse(proxy, "--proxy-listen").ToString(),
                    ProxyAdvertise = parse.GetValue(proxyAddress),
                    TunnelListen = parse.GetValue(tunnelListen) is "off" ? null : ListenAddress.Parse(parse.GetValue(tunnelListen)!, "--tunnel-listen").ToString(),
                    EgressAllow = [.. (parse.GetValue(allowEgress) ?? []).Select(r => EgressGuard.ParseRange(r, "--allow-egress"))],
                    ManagementNetworks = [.. (parse.GetValue(managementNetwork) ?? []).Select(r => EgressGuard.ParseRange(r, "--management-network"))],
                    Logs = logs,
                    DisasterRecovery = parse.GetValue(dr) || parse.GetValue(drBundle) is not null,
                    DrBundleFile = parse.GetValue(drBundle) is { } file ? Path.GetFullPath(file) : null,
                    RelayPrivateFlows = !parse.GetValue(noPrivateRelay),
                };
                ListenAddress.Parse(options.OpsListen, "--ops-listen");
            }
            catch (FormatException e)
            {
                await stderr.WriteLineAsync($"error: {e.Message}");
                return EdgeExitCodes.Usage;
            }
            catch (TransactionLogOptionsException e)
            {
                foreach (var error in e.Errors)
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
