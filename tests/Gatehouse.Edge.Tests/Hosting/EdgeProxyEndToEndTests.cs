using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Edge.Commands;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Hosting;
using Gatehouse.Edge.Tests.Proxy;
using Gatehouse.Node.Config;
using Gatehouse.Testing;
using Gatehouse.Testing.Portal;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Edge.Tests.Hosting;

/// <summary>The forward proxy of a real edge, enrolled with a real portal: credentials and policy come from the admin API.</summary>
public sealed class EdgeProxyEndToEndTests : IAsyncLifetime
{
    private static readonly BundleFollowerOptions Fast = new() { WaitSeconds = 5, MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(500) };

    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-edge-proxy-").FullName;
    private TestPortal _portal = null!;
    private HttpClient _admin = null!;
    private Origin _origin = null!;

    private string StateDirectory => Path.Combine(_root, "edge");

    private EdgeOptions Options => new()
    {
        StateDirectory = StateDirectory,
        OpsListen = "http://127.0.0.1:0",
        ProxyListen = "127.0.0.1:0",
        TunnelListen = "127.0.0.1:0",
        EgressAllow = [IPNetwork.Parse("127.0.0.0/8")],
        Follower = Fast,
        Recorder = Recorder,
        // The tests ask every 100 ms until the edge has the bundle with a new credential, as no person does: each
        // ask before then is a wrong password, and ten would refuse the name from loopback for five minutes.
        Limits = new EdgeLimits { DrainTimeout = TimeSpan.FromSeconds(2), ProxyAuthFailuresPerUser = 1000, ProxyAuthFailuresPerAddress = 1000 },
    };

    private CapturingRecorder Recorder { get; } = new();

    public async Task InitializeAsync()
    {
        _portal = await TestPortal.StartAsync();
        _admin = await _portal.SignInAsync();
        _origin = await Origin.StartAsync();
        var key = await _admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("edge test", "edge", null, null, 5), TestPortal.Json);
        var ca = Path.Combine(_root, "portal-ca.pem");
        await File.WriteAllTextAsync(ca, _portal.TlsCertificatePem);
        var secret = (await key.Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>(TestPortal.Json))!.Key;
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await EdgeCommand.RunAsync(["enroll", "--portal", _portal.BaseAddress.ToString(), "--portal-ca", ca, "--provisioning-key", secret, "--name", "edge-1", "--address", "127.0.0.1:7444", "--state-dir", StateDirectory], stdout, stderr, CancellationToken.None).DefaultTimeout();
        Assert.True(code == EdgeExitCodes.Ok, stderr.ToString());
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _origin.DisposeAsync();
        await _portal.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private async Task<(UserDto User, string Password)> UserWithCredentialAsync(string email)
    {
        var created = await _admin.PostAsJsonAsync("users", new CreateUserRequest(email), TestPortal.Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = (await created.Content.ReadFromJsonAsync<UserDto>(TestPortal.Json))!;
        var credential = await _admin.PostAsJsonAsync($"users/{user.Id}/proxy-credentials", new CreateProxyCredentialRequest("test"), TestPortal.Json);
        Assert.Equal(HttpStatusCode.Created, credential.StatusCode);
        return (user, (await credential.Content.ReadFromJsonAsync<CreateProxyCredentialResponse>(TestPortal.Json))!.Password);
    }

    private async Task BlockAsync(string domain)
    {
        var rule = new PolicyRuleSpec { Name = "block-" + domain, Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = [domain] } };
        (await _admin.PutAsJsonAsync("policy", new PolicyDocument([rule]), TestPortal.Json)).EnsureSuccessStatusCode();
    }

    private static HttpClient Through(RunningEdge edge, string email, string password) => new(new SocketsHttpHandler
    {
        Proxy = new WebProxy($"http://{edge.ProxyAddress}") { Credentials = new NetworkCredential(email, password) },
        UseProxy = true,
    })
    { Timeout = TimeSpan.FromSeconds(15) };

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (!await condition())
        {
            Assert.False(timeout.IsCancellationRequested, what);
            await Task.Delay(100, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_user_with_a_portal_made_credential_browses_through_the_edge_and_its_block_rule_holds()
    {
        var (user, password) = await UserWithCredentialAsync("carol@example.test");
        await BlockAsync("blocked.example");
        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();
        using var client = Through(edge, user.Email, password);
        var url = $"http://localhost:{_origin.Port}/hello";

        await EventuallyAsync(async () => (await client.GetAsync(url)).IsSuccessStatusCode, "The edge never accepted the credential from its bundle.");

        // The portal may publish the credential and the rule in two bundles: the rule must be in force too.
        await EventuallyAsync(() => Task.FromResult(edge.Policy.State?.RuleCount == 1), "The edge never put the block rule in force.");
        using var blocked = await client.GetAsync("http://blocked.example/");
        using var wrong = Through(edge, user.Email, "not-the-password");

        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        Assert.Contains("block-blocked.example", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, (await wrong.GetAsync(url)).StatusCode);
        Assert.Contains(Recorder.Records, r => r.UserId == user.Id.ToString() && r.Action == "allow" && r.EdgeId == edge.Identity.SubjectId.ToString());
    }

    [Fact]
    public async Task A_deleted_credential_stops_working_on_the_next_bundle()
    {
        var (user, password) = await UserWithCredentialAsync("dave@example.test");
        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();
        using var client = Through(edge, user.Email, password);
        var url = $"http://localhost:{_origin.Port}/hello";
        await EventuallyAsync(async () => (await client.GetAsync(url)).IsSuccessStatusCode, "The edge never accepted the credential.");

        var credentials = await _admin.GetFromJsonAsync<Page<ProxyCredentialDto>>($"users/{user.Id}/proxy-credentials", TestPortal.Json);
        (await _admin.DeleteAsync($"users/{user.Id}/proxy-credentials/{credentials!.Items[0].Id}")).EnsureSuccessStatusCode();

        // A request the edge admitted before the bundle came is cut when it comes (its connection reset): not yet a 407.
        using var fresh = Through(edge, user.Email, password);
        await EventuallyAsync(
            async () =>
            {
                try
                {
                    return (await fresh.GetAsync(url)).StatusCode == HttpStatusCode.ProxyAuthenticationRequired;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            "The deleted credential still works.");
    }

    [Theory]
    [InlineData("credential deleted")]
    [InlineData("user disabled")]
    public async Task A_users_open_connect_ends_when_the_edge_learns_their_access_is_gone(string how)
    {
        // As a device's open flows end when it is revoked: without this, a disabled user kept an open tunnel for as long
        // as it carried something.
        var (user, password) = await UserWithCredentialAsync("fred@example.test");
        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();
        using var echo = new EchoServer();
        using (var client = Through(edge, user.Email, password))
        {
            await EventuallyAsync(async () => (await client.GetAsync($"http://localhost:{_origin.Port}/hello")).IsSuccessStatusCode, "The edge never accepted the credential.");
        }

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(edge.ProxyAddress!);
        var stream = tcp.GetStream();
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user.Email}:{password}"));
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT localhost:{echo.Port} HTTP/1.1\r\nProxy-Authorization: Basic {auth}\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200 ", await ProxyFixture.ReadAsync(stream, "\r\n\r\n", TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
        await stream.WriteAsync("before"u8.ToArray());
        Assert.Equal("before", await ProxyFixture.ReadAsync(stream, "before", TimeSpan.FromSeconds(10)));

        var bundle = edge.Policy.State!.Version;
        if (how == "credential deleted")
        {
            var credentials = await _admin.GetFromJsonAsync<Page<ProxyCredentialDto>>($"users/{user.Id}/proxy-credentials", TestPortal.Json);
            (await _admin.DeleteAsync($"users/{user.Id}/proxy-credentials/{credentials!.Items[0].Id}")).EnsureSuccessStatusCode();
        }
        else
        {
            (await _admin.PatchAsJsonAsync($"users/{user.Id}", new UpdateUserRequest(Disabled: true), TestPortal.Json)).EnsureSuccessStatusCode();
        }

        await EventuallyAsync(() => Task.FromResult(edge.Policy.State!.Version > bundle), "The edge never got the next bundle.");
        Assert.Equal(string.Empty, await ProxyFixture.ReadAsync(stream, until: null, TimeSpan.FromSeconds(10)));
        var record = await Recorder.WaitForAsync(r => r.Method == "CONNECT" && r.Port == echo.Port);
        Assert.Equal("ended by the edge: its proxy credentials were deleted or their user disabled", record.Reason);
    }

    [Fact]
    public async Task An_edge_run_from_the_command_line_enforces_the_limits_given_there()
    {
        // What an operator writes in the unit file reaches the data path: an idle CONNECT ends after the --idle-timeout
        // given, not after the default five minutes.
        var (user, password) = await UserWithCredentialAsync("ivan@example.test");
        using var echo = new EchoServer();
        var proxy = new IPEndPoint(IPAddress.Loopback, FreePort.GetLoopbackTcpPort());
        using var stop = new CancellationTokenSource();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var run = EdgeCommand.RunAsync(
            [
                "run", "--state-dir", StateDirectory, "--ops-listen", "http://127.0.0.1:0", "--proxy-listen", proxy.ToString(), "--tunnel-listen", "off",
                "--allow-egress", "127.0.0.0/8", "--log-dir", "off", "--log-no-portal",
                "--idle-timeout", "1s", "--proxy-auth-failures-per-user", "1000", "--proxy-auth-failures-per-address", "1000",
            ],
            stdout,
            stderr,
            stop.Token);
        try
        {
            using (var client = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"http://{proxy}") { Credentials = new NetworkCredential(user.Email, password) }, UseProxy = true }))
            {
                await EventuallyAsync(
                    async () =>
                    {
                        Assert.False(run.IsCompleted, $"gatehouse-edge run ended: {stderr}");
                        try
                        {
                            return (await client.GetAsync($"http://localhost:{_origin.Port}/hello")).IsSuccessStatusCode;
                        }
                        catch (HttpRequestException)
                        {
                            return false; // not listening yet
                        }
                    },
                    "The edge never accepted the credential.");
            }

            using var tcp = new TcpClient();
            await tcp.ConnectAsync(proxy);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT localhost:{echo.Port} HTTP/1.1\r\nProxy-Authorization: {ProxyFixture.Basic(user.Email, password)}\r\n\r\n"));
            Assert.StartsWith("HTTP/1.1 200 ", await ProxyFixture.ReadAsync(stream, "\r\n\r\n", TimeSpan.FromSeconds(10)), StringComparison.Ordinal);
            await stream.WriteAsync("ping"u8.ToArray());
            Assert.Equal("ping", await ProxyFixture.ReadAsync(stream, "ping", TimeSpan.FromSeconds(10)));
            var quiet = System.Diagnostics.Stopwatch.StartNew();

            Assert.Equal(string.Empty, await ProxyFixture.ReadAsync(stream, until: null, TimeSpan.FromSeconds(30)));
            Assert.InRange(quiet.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        }
        finally
        {
            await stop.CancelAsync();
        }

        Assert.Equal(EdgeExitCodes.Ok, await run.DefaultTimeout());
    }

    [Fact]
    public async Task With_the_portal_down_a_restarted_edge_still_authenticates_and_enforces_the_last_good_policy()
    {
        var (user, password) = await UserWithCredentialAsync("erin@example.test");
        await BlockAsync("blocked.example");
        var url = $"http://localhost:{_origin.Port}/hello";
        await using (var first = await EdgeHost.StartAsync(Options).DefaultTimeout())
        {
            using var client = Through(first, user.Email, password);
            await EventuallyAsync(async () => (await client.GetAsync(url)).IsSuccessStatusCode, "The edge never accepted the credential.");

            // The portal may publish the credential and the rule in two bundles: the last good one must hold both.
            await EventuallyAsync(() => Task.FromResult(first.Policy.State?.RuleCount == 1), "The edge never put the block rule in force.");
        }

        await _portal.StopAsync();
        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();
        using var again = Through(edge, user.Email, password);

        Assert.Equal("hello from origin", await again.GetStringAsync(url));
        Assert.Equal(HttpStatusCode.Forbidden, (await again.GetAsync("http://blocked.example/")).StatusCode);
        Assert.Equal(PortalConnection.Unreachable, await WaitForUnreachableAsync(edge));
    }

    private static async Task<PortalConnection> WaitForUnreachableAsync(RunningEdge edge)
    {
        await EventuallyAsync(() => Task.FromResult(edge.Portal.Connection == PortalConnection.Unreachable), "The edge never noticed the portal is down.");
        return edge.Portal.Connection;
    }

    [Fact]
    public async Task Stopping_drains_open_flows_refuses_new_connections_then_cuts_the_rest()
    {
        var (user, password) = await UserWithCredentialAsync("frank@example.test");
        using var echo = new EchoServer();
        var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();
        var proxyAddress = edge.ProxyAddress!;
        using (var client = Through(edge, user.Email, password))
        {
            await EventuallyAsync(async () => (await client.GetAsync($"http://localhost:{_origin.Port}/hello")).IsSuccessStatusCode, "The edge never accepted the credential.");
        }

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(proxyAddress);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT localhost:{echo.Port} HTTP/1.1\r\nProxy-Authorization: {ProxyFixture.Basic(user.Email, password)}\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200 ", await ProxyFixture.ReadAsync(stream, "\r\n\r\n", TimeSpan.FromSeconds(10)), StringComparison.Ordinal);

        var stopping = edge.DisposeAsync().AsTask();
        await Task.Delay(300);

        // During the drain the open flow still works, and nobody new gets in.
        await stream.WriteAsync("during drain"u8.ToArray());
        Assert.Equal("during drain", await ProxyFixture.ReadAsync(stream, "drain", TimeSpan.FromSeconds(5)));
        using var late = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => late.ConnectAsync(proxyAddress));

        // At the end of the drain the flow is cut and the edge has stopped.
        Assert.Equal(string.Empty, await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10)));
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Transaction_records_reach_the_portal_and_its_log_query_finds_them()
    {
        var (user, password) = await UserWithCredentialAsync("gina@example.test");
        await BlockAsync("blocked.example");
        await using var edge = await EdgeHost.StartAsync(Options with { Recorder = null, Logs = new() { FlushInterval = TimeSpan.FromMilliseconds(200) } }).DefaultTimeout();
        using var client = Through(edge, user.Email, password);
        await EventuallyAsync(async () => (await client.GetAsync($"http://localhost:{_origin.Port}/hello")).IsSuccessStatusCode, "The edge never accepted the credential.");
        await EventuallyAsync(() => Task.FromResult(edge.Policy.State?.RuleCount == 1), "The edge never put the block rule in force.");
        using var blocked = await client.GetAsync("http://blocked.example/page");
        var reference = Assert.Single(blocked.Headers.GetValues("Gatehouse-Reference"));

        Page<Gatehouse.Wire.Logs.TransactionLogEntryDto>? page = null;
        await EventuallyAsync(async () =>
        {
            page = await _admin.GetFromJsonAsync<Page<Gatehouse.Wire.Logs.TransactionLogEntryDto>>($"logs?user={user.Email}&action=block", TestPortal.Json);
            return page!.Items.Count > 0;
        }, "The blocked request never showed in the portal's logs.");

        var record = Assert.Single(page!.Items).Record;
        Assert.Equal("http://blocked.example/page", record.Url);
        Assert.Equal(reference, record.ReferenceId);
        Assert.Equal(edge.Identity.SubjectId.ToString(), record.EdgeId);
    }
}
