using System.Diagnostics;
using System.Text.Json;
using Gatehouse.Agent.Service;
using Gatehouse.Cli;
using Gatehouse.Testing;
using Gatehouse.Wire.Agent;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Agent.Tests.Service;

/// <summary>
/// The agent service as users run it: `gatehouse enroll|status|agent logout` over its Unix socket, and
/// the real data plane process (gatehouse-agent dataplane) under its watchdog.
/// </summary>
public sealed class AgentServiceTests
{
    private static AgentService StartService(AgentFixture fixture, out string socket, out int proxyPort)
    {
        socket = Path.Combine(fixture.StateDirectory, "agent.sock");
        proxyPort = FreePort.GetLoopbackTcpPort();
        // The test's own runtime config and dependencies: they carry every assembly the data plane loads.
        var directory = AppContext.BaseDirectory;
        string[] exec = ["exec", "--runtimeconfig", Path.Combine(directory, "Gatehouse.Agent.Tests.runtimeconfig.json"), "--depsfile", Path.Combine(directory, "Gatehouse.Agent.Tests.deps.json"), Path.Combine(directory, "gatehouse-agent.dll")];
        return AgentService.Start(
            new AgentServiceOptions
            {
                StateDirectory = fixture.StateDirectory,
                Socket = socket,
                ProxyListen = $"127.0.0.1:{proxyPort}",
                DataPlane = new RoleCommand("dotnet", [.. exec, "dataplane", "--state-dir", fixture.StateDirectory, "--proxy-listen", $"127.0.0.1:{proxyPort}"]),
            },
            NullLoggerFactory.Instance);
    }

    private static Task<(int Code, string Out, string Err)> GatehouseAsync(params string[] args) => GatehouseWithInputAsync(string.Empty, args);

    private static async Task<(int Code, string Out, string Err)> GatehouseWithInputAsync(string stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(args, stdout, stderr, new StringReader(stdin)).DefaultTimeout();
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static async Task<AgentStatus> StatusAsync(string socket)
    {
        var (code, output, error) = await GatehouseAsync("status", "--json", "--agent-socket", socket);
        Assert.True(code == 0, error);
        return JsonSerializer.Deserialize<AgentStatus>(output, AgentLocalApi.Json)!;
    }

    [Fact]
    public async Task Enroll_status_and_logout_through_the_gatehouse_command()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await using var service = StartService(fixture, out var socket, out var proxyPort);
        Assert.Equal(AgentStates.NotEnrolled, (await StatusAsync(socket)).State);

        var enrolled = await GatehouseAsync("enroll", "--portal", fixture.Portal.BaseAddress.ToString(), "--ca-file", fixture.PortalCaFile, "--token", await fixture.EnrollmentTokenAsync(), "--name", "ada-laptop", "--agent-socket", socket);
        Assert.True(enrolled.Code == 0, enrolled.Err);
        // The id was missing ("enrolled: device ; …") while the data plane, which reports it, was starting.
        Assert.Matches("^enrolled: device [0-9a-f-]{36}; ", enrolled.Out);
        await AgentFixture.WaitUntilAsync(async () => (await StatusAsync(socket)).State == AgentStates.Connected, "the data plane to connect");
        Assert.Contains((await StatusAsync(socket)).DeviceId!.Value.ToString(), enrolled.Out, StringComparison.Ordinal);
        await fixture.WaitForEdgeToKnowAsync((await StatusAsync(socket)).DeviceId!.Value);
        var curl = await AgentFixture.CurlAsync("-x", $"http://127.0.0.1:{proxyPort}", fixture.OriginUrl);
        Assert.True(curl.Code == 0, curl.Error);
        await AgentFixture.WaitUntilAsync(async () => (await StatusAsync(socket)).FlowsOpen == 0, "the flow to end");
        var human = await GatehouseAsync("status", "--agent-socket", socket);
        Assert.Contains("state:           connected", human.Out, StringComparison.Ordinal);
        Assert.Contains("flows:           0 open, 1 since start, 0 refused by policy", human.Out, StringComparison.Ordinal);

        var again = await GatehouseAsync("enroll", "--portal", fixture.Portal.BaseAddress.ToString(), "--ca-file", fixture.PortalCaFile, "--token", await fixture.EnrollmentTokenAsync(), "--agent-socket", socket);
        Assert.NotEqual(0, again.Code);
        Assert.Contains("already holds an enrollment", again.Err, StringComparison.Ordinal);

        var dataPlane = service.DataPlanePid;
        var logout = await GatehouseAsync("agent", "logout", "--agent-socket", socket);
        Assert.True(logout.Code == 0, logout.Err);
        Assert.Equal(AgentStates.NotEnrolled, (await StatusAsync(socket)).State);
        Assert.False(File.Exists(Path.Combine(fixture.StateDirectory, "device", "node.key")));
        Assert.Null(service.DataPlanePid);
        Assert.True(dataPlane is null || !IsAlive(dataPlane.Value), "the data plane still runs after logout");
    }

    [Fact]
    public async Task A_killed_data_plane_is_restarted_and_its_socket_is_not_left_behind()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        await using var service = StartService(fixture, out var socket, out var proxyPort);
        await AgentFixture.WaitUntilAsync(async () => (await StatusAsync(socket)).State == AgentStates.Connected, "the data plane to connect");
        var first = service.DataPlanePid!.Value;

        var killed = DateTimeOffset.UtcNow;
        Process.GetProcessById(first).Kill();
        await AgentFixture.WaitUntilAsync(() => Task.FromResult(service.DataPlanePid is { } pid && pid != first), "the watchdog to restart the data plane");
        await AgentFixture.WaitUntilAsync(async () => (await StatusAsync(socket)).State == AgentStates.Connected, "the restarted data plane to connect");

        var status = await StatusAsync(socket);
        Assert.Equal(1, status.RoleRestarts);
        Assert.StartsWith("the data plane exited with code ", status.LastError, StringComparison.Ordinal);
        Assert.InRange(status.LastErrorAt!.Value, killed, DateTimeOffset.UtcNow); // when, since it stays after the restart
        var human = await GatehouseAsync("status", "--agent-socket", socket);
        Assert.Contains($"last error:      {status.LastError} (at {status.LastErrorAt.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z)", human.Out, StringComparison.Ordinal);
        Assert.False(IsAlive(first));
        var curl = await AgentFixture.CurlAsync("-x", $"http://127.0.0.1:{proxyPort}", fixture.OriginUrl);
        Assert.True(curl.Code == 0, curl.Error);
    }

    [Fact]
    public async Task Disable_needs_the_profile_password_and_sends_traffic_direct_until_enabled()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.PostAppProfileAsync("closed", disablePassword: "let-me-through");
        await fixture.EnrollDeviceAsync();
        await using var service = StartService(fixture, out var socket, out var proxyPort);
        await AgentFixture.WaitUntilAsync(async () => await StatusAsync(socket) is { State: AgentStates.Connected, FailMode: "closed" }, "the data plane to connect with the profile");
        var proxy = $"http://127.0.0.1:{proxyPort}";
        var blocked = $"http://{AgentFixture.BlockedHost}/";
        Assert.Contains("Gatehouse-Rule: block-casino", (await AgentFixture.CurlAsync("-i", "-x", proxy, blocked)).Output, StringComparison.Ordinal);

        var noPassword = await GatehouseAsync("agent", "disable", "--agent-socket", socket);
        var wrongPassword = await GatehouseWithInputAsync("guess\n", "agent", "disable", "--password-stdin", "--agent-socket", socket);
        Assert.Contains("requires a password", noPassword.Err, StringComparison.Ordinal);
        Assert.Contains("password is wrong", wrongPassword.Err, StringComparison.Ordinal);
        Assert.Equal(AgentStates.Connected, (await StatusAsync(socket)).State);

        var disabled = await GatehouseWithInputAsync("let-me-through\n", "agent", "disable", "--password-stdin", "--agent-socket", socket);
        Assert.True(disabled.Code == 0, disabled.Err);
        Assert.Equal(AgentStates.Disabled, (await StatusAsync(socket)).State);
        var direct = await AgentFixture.CurlAsync("-i", "-x", proxy, blocked);
        Assert.DoesNotContain("block-casino", direct.Output, StringComparison.Ordinal);
        Assert.Contains("the agent is disabled; going direct failed", direct.Output, StringComparison.Ordinal);
        var portal = await AgentFixture.CurlAsync("-x", proxy, "--cacert", fixture.PortalCaFile, new Uri(fixture.Portal.BaseAddress, "/healthz").ToString());
        Assert.True(portal.Code == 0, portal.Error);

        var enabled = await GatehouseAsync("agent", "enable", "--agent-socket", socket);
        Assert.True(enabled.Code == 0, enabled.Err);
        Assert.Equal(AgentStates.Connected, (await StatusAsync(socket)).State);
        Assert.Contains("Gatehouse-Rule: block-casino", (await AgentFixture.CurlAsync("-i", "-x", proxy, blocked)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_plane_whose_service_is_gone_stops_and_gives_its_port_back()
    {
        await using var fixture = await AgentFixture.StartAsync();
        await fixture.EnrollDeviceAsync();
        var proxyPort = FreePort.GetLoopbackTcpPort();
        var directory = AppContext.BaseDirectory;

        // A shell stands in for the service: it starts the data plane as the watchdog does (naming itself as its starter) and is then killed.
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true };
        foreach (var argument in (string[])["-c", $"{SupervisorWatch.Variable}=$$ \"$@\" >/dev/null 2>&1 & echo $!; wait", "sh", "dotnet", "exec", "--runtimeconfig", Path.Combine(directory, "Gatehouse.Agent.Tests.runtimeconfig.json"), "--depsfile", Path.Combine(directory, "Gatehouse.Agent.Tests.deps.json"), Path.Combine(directory, "gatehouse-agent.dll"), "dataplane", "--state-dir", fixture.StateDirectory, "--proxy-listen", $"127.0.0.1:{proxyPort}"])
        {
            start.ArgumentList.Add(argument);
        }

        using var starter = Process.Start(start)!;
        var dataPlane = int.Parse((await starter.StandardOutput.ReadLineAsync().DefaultTimeout())!, System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            await AgentFixture.WaitUntilAsync(() => Task.FromResult(Listens(proxyPort)), "the data plane to listen");

            starter.Kill();

            await AgentFixture.WaitUntilAsync(() => Task.FromResult(!IsAlive(dataPlane)), "the data plane to stop once its starter was gone");
            Assert.False(Listens(proxyPort));
        }
        finally
        {
            if (IsAlive(dataPlane))
            {
                Process.GetProcessById(dataPlane).Kill();
            }
        }
    }

    [Fact]
    public async Task Status_says_plainly_when_the_service_is_not_running()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"gatehouse-no-agent-{Guid.NewGuid():N}.sock");

        var (code, _, error) = await GatehouseAsync("status", "--agent-socket", missing);

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("the Gatehouse agent service does not answer", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_service_on_the_same_state_directory_is_refused_and_the_first_runs_on()
    {
        // Two services on one state directory would run two data planes on one enrollment and one content trial.
        var state = Directory.CreateTempSubdirectory("gatehouse-agent-twice-").FullName;
        try
        {
            AgentServiceOptions On(string socket) => new() { StateDirectory = state, Socket = Path.Combine(state, socket), ProxyListen = "127.0.0.1:0" };
            await using var first = AgentService.Start(On("first.sock"), NullLoggerFactory.Instance);

            var refused = Assert.Throws<IOException>(() => AgentService.Start(On("second.sock"), NullLoggerFactory.Instance));

            Assert.Contains($"another gatehouse-agent service (pid {Environment.ProcessId}) runs on {state}", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(state, "second.sock")));
            Assert.Equal(AgentStates.NotEnrolled, (await StatusAsync(Path.Combine(state, "first.sock"))).State);
            await first.DisposeAsync();
            await using var after = AgentService.Start(On("third.sock"), NullLoggerFactory.Instance); // the lock goes with the service
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>Whether <paramref name="pid"/> exists and is not a zombie (a process that is not our child is reaped by whoever adopted it).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    private static bool Listens(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
