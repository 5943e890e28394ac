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
using Gatehouse.Trust.Certificates;
using Gatehouse.Tunnel;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Logs;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Edge.Tests.Tunnel;

/// <summary>The agent tunnel listener of a real edge, with devices enrolled at a real portal.</summary>
public sealed class TunnelTests : IAsyncLifetime
{
    private static readonly BundleFollowerOptions Fast = new() { WaitSeconds = 5, MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(500) };

    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-edge-tunnel-").FullName;
    private readonly CapturingRecorder _recorder = new();
    private TestPortal _portal = null!;
    private HttpClient _admin = null!;
    private EchoServer _echo = null!;
    private RunningEdge _edge = null!;
    private UserDto _user = null!;
    private NodeCredentials _device = null!;

    private EdgeOptions Options(bool allowLoopback = true) => new()
    {
        StateDirectory = Path.Combine(_root, "edge"),
        OpsListen = "http://127.0.0.1:0",
        ProxyListen = null,
        TunnelListen = "127.0.0.1:0",
        EgressAllow = allowLoopback ? [IPNetwork.Parse("127.0.0.0/8")] : [],
        Follower = Fast,
        Recorder = _recorder,
        Limits = new EdgeLimits { IdleTimeout = TimeSpan.FromSeconds(20) },
    };

    public async Task InitializeAsync()
    {
        _portal = await TestPortal.StartAsync();
        _admin = await _portal.SignInAsync();
        _echo = new EchoServer();
        var ca = Path.Combine(_root, "portal-ca.pem");
        await File.WriteAllTextAsync(ca, _portal.TlsCertificatePem);
        var key = await (await _admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("edge", "edge", null, null, 5), TestPortal.Json)).Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>(TestPortal.Json);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await EdgeCommand.RunAsync(["enroll", "--portal", _portal.BaseAddress.ToString(), "--portal-ca", ca, "--provisioning-key", key!.Key, "--name", "edge-1", "--address", "127.0.0.1:7444", "--state-dir", Path.Combine(_root, "edge")], stdout, stderr, CancellationToken.None).DefaultTimeout();
        Assert.True(code == EdgeExitCodes.Ok, stderr.ToString());

        _user = (await (await _admin.PostAsJsonAsync("users", new CreateUserRequest("tina@example.test"), TestPortal.Json)).Content.ReadFromJsonAsync<UserDto>(TestPortal.Json))!;
        _device = await EnrollDeviceAsync("laptop-1", _user.Email);
        _edge = await EdgeHost.StartAsync(Options()).DefaultTimeout();
        await WaitForDeviceAsync(_edge, _device);
    }

    public async Task DisposeAsync()
    {
        await _edge.DisposeAsync();
        _device.Dispose();
        _echo.Dispose();
        _admin.Dispose();
        await _portal.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private async Task<NodeCredentials> EnrollDeviceAsync(string name, string? email)
    {
        var token = await (await _admin.PostAsJsonAsync("enrollment-tokens", new CreateEnrollmentTokenRequest(name, email is null ? null : _user.Id, null, 1), TestPortal.Json)).Content.ReadFromJsonAsync<CreateEnrollmentTokenResponse>(TestPortal.Json);
        var store = new NodeCredentialStore(Path.Combine(_root, name));
        return await new NodeEnrollment().EnrollDeviceAsync(store, _portal.BaseAddress, PortalTrust.Pinned(_portal.TlsCertificatePem), token!.Token, name, "linux", "test").DefaultTimeout();
    }

    private static async Task WaitForDeviceAsync(RunningEdge edge, NodeCredentials device)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (!edge.Policy.Identities.TryGetDeviceUser(device.Identity.SubjectId.ToString(), out _))
        {
            await Task.Delay(50, timeout.Token);
        }
    }

    private TunnelClient Client(NodeCredentials device) =>
        new(_edge.TunnelAddress!.ToString(), device.CreateCertificateWithKey(), device.TenantCa, device.Identity.TenantId.ToString());

    private static async Task<string> EchoAsync(Stream stream, string text)
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

    private async Task PutPolicyAsync(params PolicyRuleSpec[] rules) =>
        (await _admin.PutAsJsonAsync("policy", new PolicyDocument(rules), TestPortal.Json)).EnsureSuccessStatusCode();

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task An_enrolled_device_opens_a_flow_that_carries_bytes_both_ways_and_is_logged(TunnelFlowForm form)
    {
        using var client = Client(_device);

        var opened = await client.OpenAsync("localhost", _echo.Port, new TunnelFlowMetadata(FlowId: "flow-1", Network: "trusted", Posture: ["disk-encrypted"]), form);
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        await using (opened.Stream)
        {
            Assert.Equal("hello through the tunnel", await EchoAsync(opened.Stream!, "hello through the tunnel"));
        }

        var record = await _recorder.WaitForAsync(r => r.Listener == TransactionListeners.Tunnel && r.Action == TransactionActions.Allow);
        Assert.Equal(_device.Identity.SubjectId.ToString(), record.DeviceId);
        Assert.Equal(_user.Id.ToString(), record.UserId);
        Assert.Equal(_user.Email, record.UserEmail);
        Assert.Equal("localhost", record.Host);
        Assert.Equal(_echo.Port, record.Port);
        Assert.Equal(24, record.BytesUp);
        Assert.Equal(24, record.BytesDown);
    }

    [Fact]
    public async Task A_blocked_destination_gets_403_with_rule_and_reference_and_nothing_is_dialled()
    {
        await PutPolicyAsync(new PolicyRuleSpec { Name = "no-echo", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Ports = [_echo.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)] } });
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (_edge.Policy.State?.RuleCount != 1)
        {
            await Task.Delay(50, timeout.Token);
        }

        using var client = Client(_device);
        var refused = await client.OpenAsync("localhost", _echo.Port);

        Assert.False(refused.IsOpen);
        Assert.Equal(403, refused.Status);
        Assert.Equal("no-echo", refused.Rule);
        Assert.NotNull(refused.Reference);
        Assert.Equal(0, _echo.Accepted);
        var record = await _recorder.WaitForAsync(r => r.Action == TransactionActions.Block);
        Assert.Equal(refused.Reference, record.ReferenceId);
    }

    [Fact]
    public async Task Half_close_over_post_reaches_the_destination_and_its_remaining_bytes_come_back()
    {
        using var client = Client(_device);

        var opened = await client.OpenAsync("localhost", _echo.Port);
        Assert.True(opened.IsOpen, $"{opened.Status} {opened.Reason}");
        var stream = (HalfCloseStream)opened.Stream!;
        await stream.WriteAsync("last words"u8.ToArray());
        await stream.FlushAsync();
        stream.CompleteWrites();

        // The echo server answers and then, having read the end, closes its side: both arrive.
        var all = await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10));
        Assert.True("last words" == all, $"got '{all}'; echo accepted {_echo.Accepted}; records: {string.Join(" | ", _recorder.Records)}");
        await stream.DisposeAsync();
    }

    [Theory]
    [InlineData(TunnelFlowForm.Post)]
    [InlineData(TunnelFlowForm.ExtendedConnect)]
    public async Task Many_concurrent_flows_share_one_client(TunnelFlowForm form)
    {
        using var client = Client(_device);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            var opened = await client.OpenAsync("localhost", _echo.Port, form: form);
            await using var stream = opened.Stream!;
            return await EchoAsync(stream, $"flow {i:000}");
        }));

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"flow {i:000}"), results);
    }

    [Fact]
    public async Task A_new_policy_applies_to_new_flows_without_cutting_an_open_one()
    {
        using var client = Client(_device);
        var open = await client.OpenAsync("localhost", _echo.Port);
        await using var stream = open.Stream!;
        Assert.Equal("before", await EchoAsync(stream, "before"));

        await PutPolicyAsync(new PolicyRuleSpec { Name = "no-localhost", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["localhost"] } });
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (_edge.Policy.State?.RuleCount != 1)
        {
            await Task.Delay(50, timeout.Token);
        }

        Assert.Equal("after", await EchoAsync(stream, "after"));
        Assert.Equal(403, (await client.OpenAsync("localhost", _echo.Port)).Status);
    }

    [Fact]
    public async Task Without_a_client_certificate_the_handshake_fails_and_nothing_is_reached()
    {
        using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
        using var http = new HttpClient(handler);
        var request = new HttpRequestMessage(HttpMethod.Post, $"https://{_edge.TunnelAddress}{Gatehouse.Wire.Tunnel.TunnelProtocol.PathFor("localhost", _echo.Port)}") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

        await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(request));
        Assert.Equal(0, _echo.Accepted);
    }

    [Fact]
    public async Task Another_tenants_certificate_is_refused_in_the_handshake()
    {
        using var otherCa = CertificateAuthority.Create("0195f000-0000-7000-8000-00000000bbbb", "other tenant", TimeProvider.System);
        using var key = CertificateSigningRequests.CreateKey();
        var issued = otherCa.Issue(CertificateSigningRequests.Create(key, "stranger"), new CertificateIdentity("0195f000-0000-7000-8000-00000000bbbb", IdentityKinds.Device, "0195f000-0000-7000-8000-00000000cccc"), TimeSpan.FromDays(1));
        using var stranger = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.CopyWithPrivateKey(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(issued.CertificatePem), key);

        using var client = new TunnelClient(_edge.TunnelAddress!.ToString(), stranger, _device.TenantCa, _device.Identity.TenantId.ToString());
        var refused = await client.OpenAsync("localhost", _echo.Port);

        Assert.False(refused.IsOpen);
        Assert.Equal(0, refused.Status);
        Assert.Equal(0, _echo.Accepted);
    }

    [Fact]
    public async Task A_device_revoked_while_connected_loses_its_open_flows_and_cannot_open_new_ones_nor_connect_again()
    {
        using var client = Client(_device);
        var open = await client.OpenAsync("localhost", _echo.Port);
        Assert.True(open.IsOpen);
        await using var stream = open.Stream!;
        Assert.Equal("before", await EchoAsync(stream, "before"));

        (await _admin.PostAsync($"devices/{_device.Identity.SubjectId}/revoke", null)).EnsureSuccessStatusCode();
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (_edge.Policy.Identities.Trust.RevokedCount == 0)
        {
            await Task.Delay(50, timeout.Token);
        }

        // The open flow is cut, a new stream on the same connection is refused, and a new connection fails its handshake.
        Assert.Equal(string.Empty, await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10)));
        var onOpenConnection = await client.OpenAsync("localhost", _echo.Port);
        using var fresh = Client(_device);
        var onNewConnection = await fresh.OpenAsync("localhost", _echo.Port);

        Assert.False(onOpenConnection.IsOpen);
        Assert.True(onOpenConnection.Status is 403 or 0, $"{onOpenConnection.Status} {onOpenConnection.Reason}");
        if (onOpenConnection.Status == 403)
        {
            Assert.Contains("revoked", onOpenConnection.Reason, StringComparison.Ordinal);
        }

        Assert.False(onNewConnection.IsOpen);
        Assert.Equal(0, onNewConnection.Status);
        Assert.Equal(1, _echo.Accepted);
        await _recorder.WaitForAsync(r => r.Action == TransactionActions.Allow && r.Listener == TransactionListeners.Tunnel);
    }

    [Fact]
    public async Task Egress_to_loopback_is_refused_when_the_edge_does_not_allow_it()
    {
        await _edge.DisposeAsync();
        _edge = await EdgeHost.StartAsync(Options(allowLoopback: false)).DefaultTimeout();
        await WaitForDeviceAsync(_edge, _device);
        using var client = Client(_device);

        var refused = await client.OpenAsync("127.0.0.1", _echo.Port);

        Assert.Equal(403, refused.Status);
        Assert.StartsWith("egress refused", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _echo.Accepted);
    }
}
