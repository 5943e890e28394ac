using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using Gatehouse.Cli.Output;
using Gatehouse.Wire.Agent;

namespace Gatehouse.Cli.Commands.Agent;

/// <summary>
/// <c>gatehouse agent enroll|status|logout</c>, with <c>gatehouse enroll</c> and <c>gatehouse status</c>
/// as short forms: this machine's agent, through its service's local socket (<c>--agent-socket</c>,
/// else <c>GATEHOUSE_AGENT_SOCKET</c>, else <c>/run/gatehouse/agent.sock</c>). The device's logout is
/// <c>gatehouse agent logout</c> only: <c>gatehouse logout</c> ends an admin's portal session.
/// </summary>
internal static class AgentCommands
{
    /// <summary>Where an installed agent's service listens.</summary>
    public const string DefaultSocket = "/run/gatehouse/agent.sock";

    /// <summary>How long the agent may take to answer (enrolling calls the portal).</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(45);

    /// <summary>The <c>agent</c> noun, and the short forms at the top level.</summary>
    public static IEnumerable<Command> Build(CliApp app)
    {
        var agent = new Command("agent", "This machine's Gatehouse agent: enroll, status, logout, disable, enable");
        foreach (var verb in Verbs(app))
        {
            agent.Subcommands.Add(verb);
        }

        yield return agent;
        foreach (var verb in Verbs(app))
        {
            if (verb.Name is "enroll" or "status")
            {
                yield return verb;
            }
        }
    }

    private static IEnumerable<Command> Verbs(CliApp app)
    {
        var socket = new Option<string>("--agent-socket") { Description = $"The agent service's socket (else GATEHOUSE_AGENT_SOCKET, else {DefaultSocket})", HelpName = "PATH" };

        var token = new Option<string>("--token") { Description = "The enrollment token an admin made for you", Required = true };
        var name = new Option<string>("--name") { Description = "This device's name as admins see it (default: the host name)" };
        var enroll = app.WithJson(new Command("enroll", "Enroll this machine's agent with the portal (--portal URL, --ca-file to pin its certificate)") { token, name, socket });
        yield return app.Action(enroll, async run =>
        {
            var settings = run.Settings();
            var portal = settings.Portal.ToString();
            var caFile = settings.CaFile;
            var request = new AgentRequest(
                Wire.Agent.AgentCommands.Enroll,
                PortalUrl: portal,
                Token: run.Require(token),
                PortalCaPem: caFile is null ? null : await File.ReadAllTextAsync(caFile, run.Cancellation),
                Name: run.Get(name));
            var answer = await CallAsync(run, socket, request);
            Print(run, answer, (w, s) => w.WriteLine($"enrolled: device {s.DeviceId}; {s.Summary}"));
        });

        var status = app.WithJson(new Command("status", "Show this machine's agent: state, edge and latency, mode, network, flows, bytes, last error") { socket });
        yield return app.Action(status, async run =>
        {
            var answer = await CallAsync(run, socket, new AgentRequest(Wire.Agent.AgentCommands.Status));
            Print(run, answer, Describe);
        });

        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the logout password your organisation set from standard input" };
        var logout = app.WithJson(new Command("logout", "Log this machine's agent out: its device certificate and key are removed") { passwordStdin, socket });
        yield return app.Action(logout, async run =>
        {
            string? password = null;
            if (run.Get(passwordStdin))
            {
                password = (await run.Environment.Stdin.ReadLineAsync(run.Cancellation))?.TrimEnd('\r', '\n');
            }

            var answer = await CallAsync(run, socket, new AgentRequest(Wire.Agent.AgentCommands.Logout, Password: password));
            Print(run, answer, (w, _) => w.WriteLine("logged out: the device's certificate and key are removed"));
        });

        var disablePasswordStdin = new Option<bool>("--password-stdin") { Description = "Read the disable password your organisation set from standard input" };
        var disable = app.WithJson(new Command("disable", "Stop sending this machine's traffic through Gatehouse: it goes direct until `gatehouse agent enable`") { disablePasswordStdin, socket });
        yield return app.Action(disable, async run =>
        {
            var password = run.Get(disablePasswordStdin) ? (await run.Environment.Stdin.ReadLineAsync(run.Cancellation))?.TrimEnd('\r', '\n') : null;
            var answer = await CallAsync(run, socket, new AgentRequest(Wire.Agent.AgentCommands.Disable, Password: password));
            Print(run, answer, (w, s) => w.WriteLine($"disabled: {s.Summary}"));
        });

        var enable = app.WithJson(new Command("enable", "Send this machine's traffic through Gatehouse again") { socket });
        yield return app.Action(enable, async run =>
        {
            var answer = await CallAsync(run, socket, new AgentRequest(Wire.Agent.AgentCommands.Enable));
            Print(run, answer, (w, s) => w.WriteLine($"enabled: {s.Summary}"));
        });
    }

    private static async Task<AgentResponse> CallAsync(Invocation run, Option<string> socketOption, AgentRequest request)
    {
        var path = run.Get(socketOption) ?? run.Environment.Variable("GATEHOUSE_AGENT_SOCKET") ?? DefaultSocket;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(run.Cancellation);
        timeout.CancelAfter(CallTimeout);
        try
        {
            return await AgentLocalApi.CallAsync(path, request, timeout.Token);
        }
        catch (SocketException e)
        {
            throw new CliException(ExitCodes.Unreachable, $"the Gatehouse agent service does not answer on {path} ({e.Message}); is it running? (systemctl status gatehouse-agent)");
        }
        catch (InvalidDataException e)
        {
            throw new CliException(ExitCodes.Failed, e.Message);
        }
        catch (OperationCanceledException) when (!run.Cancellation.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Unreachable, $"the Gatehouse agent service did not answer within {CallTimeout.TotalSeconds:0} s");
        }
    }

    private static void Print(Invocation run, AgentResponse answer, Action<TextWriter, AgentStatus> describe)
    {
        if (!answer.Ok)
        {
            throw new CliException(answer.Error?.StartsWith("Refused", StringComparison.Ordinal) == true ? ExitCodes.NotAuthorized : ExitCodes.Failed, answer.Error ?? "the agent refused");
        }

        var status = answer.Status ?? throw new CliException(ExitCodes.Failed, "the agent answered without its status");
        if (run.Out.Json)
        {
            run.Out.WriteJson(status);
            return;
        }

        describe(run.Environment.Stdout, status);
    }

    private static void Describe(TextWriter w, AgentStatus s) => ResultPrinter.Fields(w,
        ("state", s.State),
        ("summary", s.Summary),
        ("device", s.DeviceId),
        ("portal", s.PortalUrl is null ? null : s.PortalReachable == false ? $"{s.PortalUrl} (unreachable)" : s.PortalUrl),
        ("config version", s.BundleVersion),
        ("cert expires", s.CertificateNotAfter),
        ("edge", s.Edge is null ? null : s.EdgeLatencyMs is { } ms ? $"{s.Edge}, {ms.ToString("0.##", CultureInfo.InvariantCulture)} ms" : s.Edge),
        ("mode", s.Mode is null ? null : (s.Mode == AgentModes.Transparent ? "transparent (nftables sends all TCP and DNS to the agent)" : s.Mode)
            + (s.ProxyAddress is null ? string.Empty : $"; local proxy on {s.ProxyAddress} (PAC: http://{s.ProxyAddress}/proxy.pac)")),
        ("network", s.Network),
        ("fail mode", s.FailMode),
        ("synthetic range", s.SyntheticRange ?? (s.DeviceId is null ? null : "none (the resolver is not running)")),
        ("flows", s.DeviceId is null ? null : $"{s.FlowsOpen} open, {s.FlowsTotal} since start, {s.FlowsRefused} refused by policy"),
        ("bytes", s.DeviceId is null ? null : $"{s.BytesUp} up, {s.BytesDown} down"),
        ("content", s.Content),
        ("dr", s.Dr ?? (s.DrWatch is { } watched ? $"off (checking {watched})" : s.DeviceId is null ? null : "not set up for this tenant")),
        ("restarts", s.RoleRestarts),
        ("last error", s.LastErrorAt is { } at && s.LastError is not null
            ? $"{s.LastError} (at {Times.ToTheSecond(at)})"
            : s.LastError));
}
