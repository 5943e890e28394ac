using System.Net;
using System.Net.Http.Json;
using System.Text;
using Gatehouse.Edge.Commands;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Hosting;
using Gatehouse.Edge.Tests.Proxy;
using Gatehouse.Node.Config;
using Gatehouse.Node.Credentials;
using Gatehouse.Node.Enrollment;
using Gatehouse.Testing;
using Gatehouse.Testing.Portal;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>
/// A real portal, a real edge enrolled at it with its tunnel listener on a loopback port, a user with one
/// enrolled device, and an echo server as the destination; one per test.
/// </summary>
internal sealed class TunnelFixture : IAsyncDisposable
{
    private static readonly BundleFollowerOptions Fast = new() { WaitSeconds = 5, MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(500) };

    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-edge-tunnel-").FullName;
    private readonly EdgeLimits _limits;

    private TunnelFixture(EdgeLimits limits) => _limits = limits;

    public TestPortal Portal { get; private set; } = null!;

    /// <summary>Signed in to the portal as its owner.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public EchoServer Echo { get; } = new();

    public RunningEdge Edge { get; private set; } = null!;

    public CapturingRecorder Recorder { get; } = new();

    public UserDto User { get; private set; } = null!;

    /// <summary>The user's enrolled device.</summary>
    public NodeCredentials Device { get; private set; } = null!;

    public IPEndPoint TunnelAddress => Edge.TunnelAddress!;

    /// <summary>Starts the portal, enrolls the edge and a device, and starts the edge with <paramref name="limits"/>.</summary>
    public static async Task<TunnelFixture> StartAsync(EdgeLimits? limits = null)
    {
        var fixture = new TunnelFixture(limits ?? new EdgeLimits { IdleTimeout = TimeSpan.FromSeconds(20) });
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
        Portal = await TestPortal.StartAsync();
        Admin = await Portal.SignInAsync();
        var ca = Path.Combine(_root, "portal-ca.pem");
        await File.WriteAllTextAsync(ca, Portal.TlsCertificatePem);
        var key = await (await Admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("edge", "edge", null, null, 5), TestPortal.Json)).Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>(TestPortal.Json);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await EdgeCommand.RunAsync(["enroll", "--portal", Portal.BaseAddress.ToString(), "--portal-ca", ca, "--provisioning-key", key!.Key, "--name", "edge-1", "--address", "127.0.0.1:7444", "--state-dir", Path.Combine(_root, "edge")], stdout, stderr, CancellationToken.None).DefaultTimeout();
        Assert.True(code == EdgeExitCodes.Ok, stderr.ToString());

        User = (await (await Admin.PostAsJsonAsync("users", new CreateUserRequest("tina@example.test"), TestPortal.Json)).Content.ReadFromJsonAsync<UserDto>(TestPortal.Json))!;
        Device = await EnrollDeviceAsync("laptop-1", User.Email);
        Edge = await EdgeHost.StartAsync(Options()).DefaultTimeout();
        await WaitForDeviceAsync(Edge, Device);
    }

    public EdgeOptions Options(bool allowLoopback = true) => new()
    {
        StateDirectory = Path.Combine(_root, "edge"),
        OpsListen = "http://127.0.0.1:0",
        ProxyListen = null,
        TunnelListen = "127.0.0.1:0",
        EgressAllow = allowLoopback ? [IPNetwork.Parse("127.0.0.0/8")] : [],
        Follower = Fast,
        Recorder = Recorder,
        Limits = _limits,
    };

    /// <summary>Stops the edge and starts it again with other options; waits until it knows the device.</summary>
    public async Task RestartEdgeAsync(EdgeOptions options)
    {
        await Edge.DisposeAsync();
        Edge = await EdgeHost.StartAsync(options).DefaultTimeout();
        await WaitForDeviceAsync(Edge, Device);
    }

    public async Task<NodeCredentials> EnrollDeviceAsync(string name, string? email)
    {
        var token = await (await Admin.PostAsJsonAsync("enrollment-tokens", new CreateEnrollmentTokenRequest(name, email is null ? null : User.Id, null, 1), TestPortal.Json)).Content.ReadFromJsonAsync<CreateEnrollmentTokenResponse>(TestPortal.Json);
        var store = new NodeCredentialStore(Path.Combine(_root, name));
        return await new NodeEnrollment().EnrollDeviceAsync(store, Portal.BaseAddress, PortalTrust.Pinned(Portal.TlsCertificatePem), token!.Token, name, "linux", "test").DefaultTimeout();
    }

    /// <summary>Waits until the edge's bundle lists <paramref name="device"/>.</summary>
    public Task WaitForDeviceAsync(NodeCredentials device) => WaitForDeviceAsync(Edge, device);

    private static async Task WaitForDeviceAsync(RunningEdge edge, NodeCredentials device)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (!edge.Policy.Identities.TryGetDeviceUser(device.Identity.SubjectId.ToString(), out _))
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    /// <summary>The agent's tunnel client for <paramref name="device"/>, pointed at the edge.</summary>
    public TunnelClient Client(NodeCredentials device) =>
        new(TunnelAddress.ToString(), device.CreateCertificateWithKey(), device.TenantCa, device.Identity.TenantId.ToString());

    /// <summary>Writes <paramref name="text"/> and reads as many bytes back (bounded).</summary>
    public static async Task<string> EchoAsync(Stream stream, string text)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(text));
        await stream.FlushAsync();
        var buffer = new byte[text.Length];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    /// <summary>Opens a flow to the echo server as the device does and returns what came back (bounded).</summary>
    public async Task<string> EchoThroughTunnelAsync(string text)
    {
        using var client = Client(Device);
        var opened = await client.OpenAsync("localhost", Echo.Port).DefaultTimeout();
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        await using var stream = opened.Stream!;
        return await EchoAsync(stream, text);
    }

    public async Task PutPolicyAsync(params PolicyRuleSpec[] rules) =>
        (await Admin.PutAsJsonAsync("policy", new PolicyDocument(rules), TestPortal.Json)).EnsureSuccessStatusCode();

    public async ValueTask DisposeAsync()
    {
        if (Edge is not null)
        {
            await Edge.DisposeAsync();
        }

        Device?.Dispose();
        Echo.Dispose();
        Admin?.Dispose();
        if (Portal is not null)
        {
            await Portal.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }
}
