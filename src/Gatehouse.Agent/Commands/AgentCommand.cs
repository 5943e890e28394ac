using System.CommandLine;
using System.Runtime.InteropServices;
using Gatehouse.Agent.DataPlane;
using Gatehouse.Agent.Service;
using Gatehouse.Node;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Agent.Commands;

/// <summary>The <c>gatehouse-agent</c> program: its roles as commands (<c>service</c>, <c>dataplane</c>).</summary>
public static class AgentCommand
{
    /// <summary>Exit code: a usage error.</summary>
    public const int Usage = 2;

    /// <summary>Exit code: the role could not start.</summary>
    public const int StartFailed = 3;

    /// <summary>Exit code of the service after installing a new build: systemd restarts it through <c>launch</c>.</summary>
    public const int RestartForUpdate = 75;

    /// <summary>Runs one command line; returns the exit code.</summary>
    /// <param name="args">The arguments.</param>
    public static async Task<int> RunAsync(string[] args)
    {
        var result = Build().Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var error in result.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}");
            }

            return Usage;
        }

        return await result.InvokeAsync();
    }

    /// <summary>The command line: <c>service</c>, <c>dataplane</c>, <c>launch</c> and <c>install-release</c>.</summary>
    internal static RootCommand Build()
    {
        var stateDir = new Option<string>("--state-dir") { Description = $"The agent's state directory (default {AgentPaths.DefaultStateDirectory}).", DefaultValueFactory = _ => AgentPaths.DefaultStateDirectory };
        var proxyListen = new Option<string>("--proxy-listen") { Description = $"The local proxy's address (default {LocalProxy.LocalProxySession.DefaultListen}).", DefaultValueFactory = _ => LocalProxy.LocalProxySession.DefaultListen };
        var probe = new Option<string>("--captive-portal-probe") { Description = $"A URL that answers 204 on an open network (default {Networks.CaptivePortalMonitor.DefaultProbe}).", DefaultValueFactory = _ => Networks.CaptivePortalMonitor.DefaultProbe };
        var transparent = new Option<bool>("--transparent") { Description = "Intercept all outbound TCP and DNS with an nftables table when the forwarding profile says `tunnel` (needs root)." };
        var transparentListen = new Option<string>("--transparent-listen") { Description = $"Where redirected connections arrive (default {Transparent.TransparentInterception.DefaultListen}).", DefaultValueFactory = _ => Transparent.TransparentInterception.DefaultListen };
        var dnsListen = new Option<string>("--dns-listen") { Description = $"The local DNS resolver's address (default {Names.LocalResolver.DefaultListen}).", DefaultValueFactory = _ => Names.LocalResolver.DefaultListen };
        var restartDelay = new Option<double>("--restart-delay")
        {
            Description = $"Seconds the watchdog waits before restarting a data plane that crashed again soon after a restart; doubles per crash up to {RoleSupervisor.MaxBackoff.TotalSeconds:0} s (default {RoleSupervisor.FirstBackoff.TotalSeconds}).",
            DefaultValueFactory = _ => RoleSupervisor.FirstBackoff.TotalSeconds,
        };
        var socket = new Option<string>("--socket")
        {
            Description = $"The local API socket for `gatehouse` (default ${AgentPaths.SocketVariable} or {AgentPaths.DefaultSocket}).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(AgentPaths.SocketVariable) ?? AgentPaths.DefaultSocket,
        };

        var contentPoll = new Option<double?>("--content-poll") { Description = "Seconds between checks for pushed content (default 300, jittered)." };
        var contentWindow = new Option<double?>("--content-health-window") { Description = "Seconds a trial content version must run before it is committed (default 600)." };
        var drResolvers = new Option<string[]>("--dr-resolver") { Description = "A DNS server (ADDRESS or ADDRESS:PORT) to ask for the tenant's DR record; repeatable (default: the name servers of /etc/resolv.conf).", HelpName = "ADDRESS[:PORT]" };
        drResolvers.Validators.Add(r =>
        {
            foreach (var value in r.GetValueOrDefault<string[]>() ?? [])
            {
                if (Resolver(value) is null)
                {
                    r.AddError($"--dr-resolver takes ADDRESS or ADDRESS:PORT; got '{value}'");
                }
            }
        });
        var serviceInstallDir = new Option<string>("--install-dir") { Description = "Follow the tenant's agent rollout and install new builds here (set by `gatehouse-agent launch`; off when not given)." };
        var service = new Command("service", "Run the agent service: local API, enrollment, and the watchdog of the data plane.") { stateDir, socket, proxyListen, probe, transparent, restartDelay, contentPoll, contentWindow, drResolvers, serviceInstallDir };
        service.SetAction((parse, ct) => RunServiceAsync(new AgentServiceOptions
        {
            StateDirectory = Path.GetFullPath(parse.GetValue(stateDir)!),
            Socket = Path.GetFullPath(parse.GetValue(socket)!),
            ProxyListen = parse.GetValue(proxyListen)!,
            CaptivePortalProbe = parse.GetValue(probe)!,
            Transparent = parse.GetValue(transparent),
            FirstRestartDelay = TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(restartDelay), 0, RoleSupervisor.MaxBackoff.TotalSeconds)),
            ContentPoll = Seconds(parse.GetValue(contentPoll)),
            ContentHealthWindow = Seconds(parse.GetValue(contentWindow)),
            InstallDirectory = parse.GetValue(serviceInstallDir) is { } dir ? Path.GetFullPath(dir) : null,
            DrResolvers = Resolvers(parse.GetValue(drResolvers)),
        }));

        var dataPlane = new Command("dataplane", "Run the data plane (started by the service): local proxy and tunnels to edges.") { stateDir, proxyListen, probe, transparent, transparentListen, dnsListen, contentPoll, contentWindow, drResolvers };
        dataPlane.SetAction((parse, ct) =>
        {
            var directory = Path.GetFullPath(parse.GetValue(stateDir)!);
            return RunDataPlaneAsync(new DataPlaneOptions
            {
                StateDirectory = directory,
                StatusSocket = AgentPaths.DataPlaneSocket(directory),
                ProxyListen = parse.GetValue(proxyListen)!,
                CaptivePortalProbe = parse.GetValue(probe)!,
                Transparent = parse.GetValue(transparent),
                TransparentListen = parse.GetValue(transparentListen)!,
                DnsListen = parse.GetValue(dnsListen)!,
                DrResolvers = Resolvers(parse.GetValue(drResolvers)),
                ContentUpdates = new Updates.ContentUpdaterOptions
                {
                    PollInterval = Seconds(parse.GetValue(contentPoll)) ?? TimeSpan.FromMinutes(5),
                    HealthWindow = Seconds(parse.GetValue(contentWindow)) ?? TimeSpan.FromMinutes(10),
                },
            });
        });

        var installDir = new Option<string>("--install-dir") { Description = "Where agent builds are installed (default /opt/gatehouse/agent).", DefaultValueFactory = _ => "/opt/gatehouse/agent" };
        var healthWindow = new Option<double>("--health-window") { Description = "Seconds a trial build must run, then with the tunnel up and no data plane restart (asked on --socket), before it is committed (default 600).", DefaultValueFactory = _ => 600 };
        var buildArguments = new Argument<string[]>("ARGS") { Description = "The arguments of the build (after --).", Arity = ArgumentArity.ZeroOrMore };
        var launch = new Command("launch", "Start the installed agent build (what systemd runs): the trial build while it has starts left, else the committed one.") { installDir, healthWindow, socket, buildArguments };
        launch.SetAction((parse, ct) => Updates.Launcher.RunAsync(
            Path.GetFullPath(parse.GetValue(installDir)!), TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(healthWindow))), Path.GetFullPath(parse.GetValue(socket)!), parse.GetValue(buildArguments) ?? []));

        var version = new Option<string>("--version") { Description = "The release's version.", Required = true };
        var archive = new Option<string>("--file") { Description = "The release archive (.tar.gz with gatehouse-agent at its top), verified.", Required = true };
        var sha256 = new Option<string>("--sha256") { Description = "Its SHA-256 from signed metadata.", Required = true };
        var install = new Command("install-release", "Install a verified agent release as the trial build for the next start.") { installDir, version, archive, sha256 };
        install.SetAction(parse =>
        {
            try
            {
                new Gatehouse.Updates.Releases.ReleaseSlots(Path.GetFullPath(parse.GetValue(installDir)!))
                    .Install(parse.GetValue(version)!, File.ReadAllBytes(parse.GetValue(archive)!), parse.GetValue(sha256)!);
                Console.WriteLine($"release {parse.GetValue(version)} installed; the next start tries it");
                return 0;
            }
            catch (Exception e) when (e is Gatehouse.Updates.UpdateException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return StartFailed;
            }
        });

        return new RootCommand("gatehouse-agent: the Gatehouse endpoint agent. `gatehouse status|enroll|logout` talks to its service.") { service, dataPlane, launch, install };
    }

    private static async Task<int> RunServiceAsync(AgentServiceOptions options)
    {
        using var loggers = Loggers();
        AgentService agent;
        try
        {
            agent = AgentService.Start(options, loggers);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"error: the agent service cannot start: {e.Message}");
            return StartFailed;
        }

        await using (agent)
        {
            Console.WriteLine($"gatehouse-agent service: local API on {options.Socket}, state in {options.StateDirectory}");
            if (await Task.WhenAny(WaitForStopAsync("service"), agent.RestartRequested) == agent.RestartRequested)
            {
                // A new build is installed: exit so that systemd restarts the service through `launch`.
                return RestartForUpdate;
            }
        }

        return 0;
    }

    private static async Task<int> RunDataPlaneAsync(DataPlaneOptions options)
    {
        using var loggers = Loggers();
        DataPlaneHost host;
        try
        {
            host = DataPlaneHost.Start(options, loggers);
        }
        catch (Exception e) when (e is NodeException or System.Net.Sockets.SocketException or FormatException or IOException)
        {
            await Console.Error.WriteLineAsync($"error: the data plane cannot start: {e.Message}");
            return StartFailed;
        }

        await using (host)
        {
            await WaitForStopAsync("data plane");
        }

        return 0;
    }

    private static IReadOnlyList<System.Net.IPEndPoint> Resolvers(string[]? values) => [.. (values ?? []).Select(v => Resolver(v)!)];

    private static System.Net.IPEndPoint? Resolver(string value) =>
        System.Net.IPEndPoint.TryParse(value, out var endpoint) ? (endpoint.Port == 0 ? new System.Net.IPEndPoint(endpoint.Address, 53) : endpoint) : null;

    private static TimeSpan? Seconds(double? value) => value is { } seconds ? TimeSpan.FromSeconds(Math.Max(0.1, seconds)) : null;

    private static ILoggerFactory Loggers() => LoggerFactory.Create(logging => logging
        .AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        })
        .SetMinimumLevel(LogLevel.Information));

    /// <summary>Waits for SIGTERM or SIGINT, or for the process that started this one to be gone (<see cref="SupervisorWatch"/>).</summary>
    private static async Task WaitForStopAsync(string role)
    {
        using var signalled = new CancellationTokenSource();
        var starterGone = SupervisorWatch.StarterGoneAsync(signalled.Token);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopped.TrySetResult();
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stopped.TrySetResult();
        });
        if (await Task.WhenAny(stopped.Task, starterGone) == starterGone)
        {
            await starterGone;
            await Console.Error.WriteLineAsync($"gatehouse-agent {role}: the process that started it is gone; stopping");
            return;
        }

        await signalled.CancelAsync();
        try
        {
            await starterGone;
        }
        catch (OperationCanceledException)
        {
            // the watch ends with the process
        }
    }
}
