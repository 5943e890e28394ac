using System.Diagnostics;
using System.Net.Http.Json;
using Gatehouse.Agent.DataPlane;
using Gatehouse.Edge.Commands;
using Gatehouse.Edge.Hosting;
using Gatehouse.Node.Config;
using Gatehouse.Testing;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Agent.Tests;

/// <summary>
/// A real portal with a block rule for <see cref="BlockedHost"/>, a real edge enrolled at it (its
/// tunnel listener on a probed-free loopback port, which is the address the agent bundle lists), a
/// user, and an agent state directory; one per test. The edge's operations endpoint is the origin
/// the tests reach through the agent.
/// </summary>
internal sealed class AgentFixture : IAsyncDisposable
{
    public const string BlockedHost = "casino.agent.test";

    public static readonly BundleFollowerOptions Fast = new() { WaitSeconds = 5, MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(500) };

    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-agent-").FullName;
    private RunningEdge? _secondEdge;
    private RunningEdge? _drEdge;
    private string _portalCa = null!;

    public TestPortal Portal { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public RunningEdge? Edge { get; private set; }

    public int TunnelPort { get; private set; }

    public UserDto User { get; private set; } = null!;

    /// <summary>The agent's state directory.</summary>
    public string StateDirectory => Path.Combine(_root, "agent");

    /// <summary>A URL served by the edge's operations endpoint: what the tests fetch through the agent.</summary>
    public string OriginUrl => new Uri(Edge!.OpsAddress, "healthz").ToString();

    public string PortalCaFile => _portalCa;

    private string _edgeHost = "127.0.0.1";
    private Action<Gatehouse.Portal.Hosting.PortalOptions>? _configurePortal;
    private Func<string, CancellationToken, Task<System.Net.IPAddress[]>>? _resolveHost;
    private System.Net.IPNetwork[] _egressAllow = [System.Net.IPNetwork.Parse("127.0.0.0/8")];

    /// <summary>Starts the portal and <c>edge-1</c> on loopback.</summary>
    public static Task<AgentFixture> StartAsync() => StartAsync(new AgentFixture());

    /// <summary>Starts the portal, with changes to its options, and <c>edge-1</c> listening on <paramref name="edgeHost"/>.</summary>
    public static Task<AgentFixture> StartAsync(string edgeHost, Action<Gatehouse.Portal.Hosting.PortalOptions> configurePortal) =>
        StartAsync(new AgentFixture { _edgeHost = edgeHost, _configurePortal = configurePortal });

    /// <summary>Starts the portal, with changes to its options, and <c>edge-1</c> on loopback.</summary>
    public static Task<AgentFixture> StartAsync(Action<Gatehouse.Portal.Hosting.PortalOptions> configurePortal) => StartAsync(new AgentFixture { _configurePortal = configurePortal });

    /// <summary>
    /// Starts the portal and <c>edge-1</c>, whose tunnel listens on <paramref name="edgeHost"/> (an
    /// address other network namespaces reach), resolving names with <paramref name="resolveHost"/>
    /// and reaching <paramref name="egressAllow"/>.
    /// </summary>
    public static Task<AgentFixture> StartAsync(string edgeHost, Func<string, CancellationToken, Task<System.Net.IPAddress[]>> resolveHost, params System.Net.IPNetwork[] egressAllow) =>
        StartAsync(new AgentFixture { _edgeHost = edgeHost, _resolveHost = resolveHost, _egressAllow = egressAllow });

    private static async Task<AgentFixture> StartAsync(AgentFixture fixture)
    {
        try
        {
            await fixture.InitializeAsync();
            return fixture;
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync()
    {
        Portal = await TestPortal.StartAsync(_configurePortal);
        Admin = await Portal.SignInAsync();
        _portalCa = Path.Combine(_root, "portal-ca.pem");
        await File.WriteAllTextAsync(_portalCa, Portal.TlsCertificatePem);
        TunnelPort = FreePort.GetLoopbackTcpPort();
        await EnrollEdgeAsync("edge-1", TunnelPort);
        User = (await (await Admin.PostAsJsonAsync("users", new CreateUserRequest("ada@example.test"), TestPortal.Json)).Content.ReadFromJsonAsync<UserDto>(TestPortal.Json))!;
        var block = new PolicyRuleSpec { Name = "block-casino", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = [BlockedHost] } };
        (await Admin.PutAsJsonAsync("policy", new PolicyDocument([block]), TestPortal.Json)).EnsureSuccessStatusCode();
        await StartEdgeAsync();
    }

    public async Task StartEdgeAsync() => Edge = await StartEdgeAsync("edge-1", TunnelPort);

    /// <summary>Enrolls and starts a second edge of the tenant, <c>edge-2</c>; agents learn it from their next bundle.</summary>
    public async Task StartSecondEdgeAsync()
    {
        var port = FreePort.GetLoopbackTcpPort();
        await EnrollEdgeAsync("edge-2", port);
        _secondEdge = await StartEdgeAsync("edge-2", port);
    }

    /// <summary>Stops <c>edge-1</c> or <c>edge-2</c>.</summary>
    public async Task StopEdgeAsync(string name)
    {
        if (name == "edge-1")
        {
            await StopEdgeAsync();
        }
        else if (_secondEdge is not null)
        {
            await _secondEdge.DisposeAsync();
            _secondEdge = null;
        }
    }

    private async Task EnrollEdgeAsync(string name, int port)
    {
        var key = await (await Admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest(name, "edge", null, null, 1), TestPortal.Json)).Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>(TestPortal.Json);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await EdgeCommand.RunAsync(["enroll", "--portal", Portal.BaseAddress.ToString(), "--portal-ca", _portalCa, "--provisioning-key", key!.Key, "--name", name, "--address", $"{_edgeHost}:{port}", "--state-dir", Path.Combine(_root, name)], stdout, stderr, CancellationToken.None).DefaultTimeout();
        Assert.True(code == EdgeExitCodes.Ok, stderr.ToString());
    }

    /// <summary>
    /// Enrolls and starts <c>dr-edge-1</c>, an edge of the tenant in disaster-recovery mode (it
    /// enforces the DR bundle), resolving names with <paramref name="resolveHost"/>. Its id goes into
    /// the tenant's DR settings.
    /// </summary>
    public async Task<RunningEdge> StartDrEdgeAsync(Func<string, CancellationToken, Task<System.Net.IPAddress[]>>? resolveHost = null)
    {
        var port = FreePort.GetLoopbackTcpPort();
        await EnrollEdgeAsync("dr-edge-1", port);
        _drEdge = await StartEdgeAsync("dr-edge-1", port, disasterRecovery: true, resolveHost);
        return _drEdge;
    }

    private Task<RunningEdge> StartEdgeAsync(string directory, int port, bool disasterRecovery = false, Func<string, CancellationToken, Task<System.Net.IPAddress[]>>? resolveHost = null) => EdgeHost.StartAsync(new EdgeOptions
    {
        StateDirectory = Path.Combine(_root, directory),
        OpsListen = "http://127.0.0.1:0",
        ProxyListen = null,
        TunnelListen = $"{_edgeHost}:{port}",
        EgressAllow = _egressAllow,
        ResolveHost = resolveHost ?? _resolveHost,
        Follower = Fast,
        DisasterRecovery = disasterRecovery,
        Logs = new Edge.TransactionLogs.TransactionLogOptions { Directory = Path.Combine(_root, directory + "-logs"), ShipToPortal = false },
    }).DefaultTimeout();

    public async Task StopEdgeAsync()
    {
        if (Edge is not null)
        {
            await Edge.DisposeAsync();
            Edge = null;
        }
    }

    /// <summary>Starts the agent's data plane in-process on the enrolled device, with its local proxy on a free port.</summary>
    /// <param name="tune">Changes to the options (a fast network recheck, a probe URL).</param>
    public DataPlaneHost StartDataPlane(Func<DataPlaneOptions, DataPlaneOptions>? tune = null)
    {
        var options = new DataPlaneOptions
        {
            StateDirectory = StateDirectory,
            StatusSocket = AgentPaths.DataPlaneSocket(StateDirectory),
            ProxyListen = "127.0.0.1:0",
            Follower = Fast,
        };
        return DataPlaneHost.Start(tune is null ? options : tune(options), NullLoggerFactory.Instance);
    }

    /// <summary>A one-use enrollment token for the user.</summary>
    public async Task<string> EnrollmentTokenAsync()
    {
        var response = await Admin.PostAsJsonAsync("enrollment-tokens", new CreateEnrollmentTokenRequest("laptop", User.Id, null, 1), TestPortal.Json);
        return (await response.Content.ReadFromJsonAsync<CreateEnrollmentTokenResponse>(TestPortal.Json))!.Token;
    }

    /// <summary>Enrolls the agent's device straight into its state directory (what the service does for `gatehouse enroll`).</summary>
    public async Task EnrollDeviceAsync()
    {
        using var credentials = await new Node.Enrollment.NodeEnrollment().EnrollDeviceAsync(
            AgentPaths.DeviceStore(StateDirectory), Portal.BaseAddress, Node.Credentials.PortalTrust.Pinned(Portal.TlsCertificatePem), await EnrollmentTokenAsync(), "laptop", "linux", "test").DefaultTimeout();
        await WaitForEdgeToKnowAsync(credentials.Identity.SubjectId);
    }

    /// <summary>Waits until the edge's bundle lists the device: until then it refuses the device's flows.</summary>
    public Task WaitForEdgeToKnowAsync(Guid deviceId) =>
        WaitUntilAsync(() => Task.FromResult(Edge!.Policy.Identities.TryGetDeviceUser(deviceId.ToString(), out _)), "the edge to learn the device");

    public async Task PostAppProfileAsync(string failMode, string? disablePassword = null) =>
        (await Admin.PostAsJsonAsync("app-profiles", new AppProfileRequest("everyone", FailMode: failMode, DisablePassword: disablePassword), TestPortal.Json)).EnsureSuccessStatusCode();

    /// <summary>Runs curl (a real client, as a user would) and returns its exit code, the response head and body.</summary>
    public static async Task<(int Code, string Output, string Error)> CurlAsync(params string[] args)
    {
        var info = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-sS", "--max-time", "20", "--noproxy", "" }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("http_proxy");
        info.Environment.Remove("https_proxy");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        return (process.ExitCode, await output, await error);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (bounded).</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, Func<object?>? state = null)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"timed out waiting for {what}{(state is null ? string.Empty : $"; now: {state()}")}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopEdgeAsync();
        await StopEdgeAsync("edge-2");
        if (_drEdge is not null)
        {
            await _drEdge.DisposeAsync();
        }

        Admin?.Dispose();
        if (Portal is not null)
        {
            await Portal.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }
}
