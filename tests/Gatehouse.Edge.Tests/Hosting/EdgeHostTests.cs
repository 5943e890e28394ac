using Gatehouse.Testing.Portal;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gatehouse.Edge.Commands;
using Gatehouse.Edge.Hosting;
using Gatehouse.Node.Config;
using Gatehouse.Testing;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Edge.Tests.Hosting;

public sealed class EdgeHostTests : IAsyncLifetime
{
    // Short backoff and long poll, so that outages and restarts show in seconds.
    private static readonly BundleFollowerOptions Fast = new() { WaitSeconds = 5, MinBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromMilliseconds(500) };

    private readonly string _root = Directory.CreateTempSubdirectory("gatehouse-edge-host-").FullName;
    private readonly CancellationTokenSource _timeout = new(TestTimeouts.Default);
    private readonly HttpClient _ops = new() { Timeout = TimeSpan.FromSeconds(10) };
    private TestPortal _portal = null!;
    private HttpClient _admin = null!;

    private string StateDirectory => Path.Combine(_root, "edge");

    private EdgeOptions Options => new() { StateDirectory = StateDirectory, OpsListen = "http://127.0.0.1:0", ProxyListen = "127.0.0.1:0", TunnelListen = "127.0.0.1:0", Follower = Fast };

    public async Task InitializeAsync()
    {
        _portal = await TestPortal.StartAsync();
        _admin = await _portal.SignInAsync();
    }

    public async Task DisposeAsync()
    {
        _ops.Dispose();
        _admin.Dispose();
        await _portal.DisposeAsync();
        _timeout.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private async Task<string> CreateProvisioningKeyAsync()
    {
        var response = await _admin.PostAsJsonAsync("provisioning-keys", new CreateProvisioningKeyRequest("edge test", "edge", null, null, 5), TestPortal.Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreateProvisioningKeyResponse>(TestPortal.Json))!.Key;
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> EdgeAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await EdgeCommand.RunAsync(args, stdout, stderr, _timeout.Token).DefaultTimeout();
        return (code, stdout.ToString(), stderr.ToString());
    }

    private async Task<(int ExitCode, string Stdout, string Stderr)> EnrollAsync(string key)
    {
        var ca = Path.Combine(_root, "portal-ca.pem");
        await File.WriteAllTextAsync(ca, _portal.TlsCertificatePem);
        return await EdgeAsync("enroll", "--portal", _portal.BaseAddress.ToString(), "--portal-ca", ca, "--provisioning-key", key, "--name", "edge-1", "--address", "127.0.0.1:7444", "--state-dir", StateDirectory);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> HealthAsync(RunningEdge edge)
    {
        using var response = await _ops.GetAsync(new Uri(edge.OpsAddress, "/healthz"));
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private async Task<JsonElement> WaitForHealthAsync(RunningEdge edge, Func<JsonElement, bool> condition)
    {
        while (true)
        {
            var (status, body) = await HealthAsync(edge);
            if (status == HttpStatusCode.OK && condition(body))
            {
                return body;
            }

            Assert.False(_timeout.IsCancellationRequested, $"/healthz still says {(int)status} {body}.");
            await Task.Delay(50, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Enrolled_edge_serves_its_policy_version_and_an_admin_policy_change_raises_it()
    {
        var enroll = await EnrollAsync(await CreateProvisioningKeyAsync());
        Assert.True(enroll.ExitCode == EdgeExitCodes.Ok, enroll.Stderr);
        Assert.Contains("enrolled edge edge-1", enroll.Stdout, StringComparison.Ordinal);

        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();
        var before = await WaitForHealthAsync(edge, b => b.GetProperty("portal").GetString() == "connected");
        Assert.Equal("ok", before.GetProperty("status").GetString());
        var version = before.GetProperty("policyVersion").GetInt64();
        Assert.Equal(0, before.GetProperty("policyRules").GetInt32());

        var rule = new PolicyRuleSpec { Name = "block-example", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["blocked.example"] } };
        (await _admin.PutAsJsonAsync("policy", new PolicyDocument([rule]), TestPortal.Json)).EnsureSuccessStatusCode();

        var started = DateTime.UtcNow;
        var after = await WaitForHealthAsync(edge, b => b.GetProperty("policyVersion").GetInt64() > version);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), $"The change took {DateTime.UtcNow - started}.");
        Assert.Equal(1, after.GetProperty("policyRules").GetInt32());
        Assert.Equal(Policy.Decisions.PolicyAction.Block, edge.Policy.Holder.Decide(new Policy.Decisions.FlowContext { Host = "blocked.example", Port = 443 }).Action);

        var metrics = await _ops.GetStringAsync(new Uri(edge.OpsAddress, "/metrics"));
        Assert.Contains($"gatehouse_edge_policy_version {after.GetProperty("policyVersion").GetInt64()}", metrics, StringComparison.Ordinal);
        Assert.Contains("gatehouse_edge_policy_rules 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gatehouse_edge_portal_connected 1", metrics, StringComparison.Ordinal);
        Assert.Contains("gatehouse_edge_policy_compile_failures_total", metrics, StringComparison.Ordinal);
        Assert.Contains("process_resident_memory_bytes", metrics, StringComparison.Ordinal);
    }

    /// <summary>The real clock moved forward: timers run as usual, only "now" is later.</summary>
    private sealed class ShiftedClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
    }

    [Fact]
    public async Task A_running_edge_renews_its_certificate_when_two_thirds_of_its_life_are_gone()
    {
        Assert.Equal(EdgeExitCodes.Ok, (await EnrollAsync(await CreateProvisioningKeyAsync())).ExitCode);
        var certificatePath = Path.Combine(StateDirectory, "node.crt");
        var before = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(certificatePath));

        // Edge certificates live 90 days; 70 days on, less than a third is left.
        await using var edge = await EdgeHost.StartAsync(Options with { Time = new ShiftedClock(TimeSpan.FromDays(70)) }).DefaultTimeout();
        System.Security.Cryptography.X509Certificates.X509Certificate2 after;
        do
        {
            Assert.False(_timeout.IsCancellationRequested, "The edge did not renew its certificate.");
            await Task.Delay(100, CancellationToken.None);
            after = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(certificatePath));
        }
        while (after.SerialNumber == before.SerialNumber);

        var listed = await _admin.GetFromJsonAsync<EdgeDto>($"edges/{edge.Identity.SubjectId}", TestPortal.Json);
        Assert.Equal(after.SerialNumber, listed!.CertificateSerial, ignoreCase: true);
        Assert.True(after.NotAfter >= before.NotAfter);

        // The follower moved to the new certificate: a policy change still reaches the edge. The renewal
        // may finish before the first bundle is in force, so the version is read once a policy is.
        var version = (await WaitForHealthAsync(edge, b => b.GetProperty("status").GetString() == "ok")).GetProperty("policyVersion").GetInt64();
        var rule = new PolicyRuleSpec { Name = "after-renewal", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["renewed.example"] } };
        (await _admin.PutAsJsonAsync("policy", new PolicyDocument([rule]), TestPortal.Json)).EnsureSuccessStatusCode();
        await WaitForHealthAsync(edge, b => b.GetProperty("policyVersion").GetInt64() > version);
    }

    [Fact]
    public async Task With_the_portal_stopped_a_freshly_started_edge_serves_the_last_known_good_policy()
    {
        Assert.Equal(EdgeExitCodes.Ok, (await EnrollAsync(await CreateProvisioningKeyAsync())).ExitCode);
        var rule = new PolicyRuleSpec { Name = "block-example", Action = PolicyActions.Block, Criteria = new PolicyCriteria { Domains = ["blocked.example"] } };
        (await _admin.PutAsJsonAsync("policy", new PolicyDocument([rule]), TestPortal.Json)).EnsureSuccessStatusCode();
        long version;
        await using (var first = await EdgeHost.StartAsync(Options).DefaultTimeout())
        {
            version = (await WaitForHealthAsync(first, b => b.GetProperty("policyRules").GetInt32() == 1)).GetProperty("policyVersion").GetInt64();
        }

        await _portal.StopAsync();
        var stopped = DateTimeOffset.UtcNow;
        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();

        // In force before the first call to the portal has failed.
        var (status, body) = await HealthAsync(edge);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(version, body.GetProperty("policyVersion").GetInt64());
        var down = await WaitForHealthAsync(edge, b => b.GetProperty("portal").GetString() == "unreachable");
        Assert.Equal(version, down.GetProperty("policyVersion").GetInt64());
        Assert.Equal(1, down.GetProperty("policyRules").GetInt32());
        Assert.Contains("gatehouse_edge_portal_connected 0", await _ops.GetStringAsync(new Uri(edge.OpsAddress, "/metrics")), StringComparison.Ordinal);
        Assert.NotNull(down.GetProperty("lastError").GetString());
        Assert.InRange(down.GetProperty("lastErrorAt").GetDateTimeOffset(), stopped, DateTimeOffset.UtcNow);

        // Back: the error stays, as the last one there was, with its time before the reconnection.
        await _portal.RestartAsync();
        var up = await WaitForHealthAsync(edge, b => b.GetProperty("portal").GetString() == "connected");
        Assert.Equal(down.GetProperty("lastError").GetString(), up.GetProperty("lastError").GetString());
        Assert.True(up.GetProperty("lastErrorAt").GetDateTimeOffset() <= up.GetProperty("since").GetDateTimeOffset(), up.ToString());
    }

    [Fact]
    public async Task A_bundle_whose_policy_does_not_compile_is_refused_to_the_follower_and_the_policy_in_force_stays()
    {
        Assert.Equal(EdgeExitCodes.Ok, (await EnrollAsync(await CreateProvisioningKeyAsync())).ExitCode);
        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();
        var version = (await WaitForHealthAsync(edge, b => b.GetProperty("policyVersion").ValueKind == JsonValueKind.Number)).GetProperty("policyVersion").GetInt64();
        var inForce = edge.Policy.State;

        // What a newer portal could send an older edge: signed and valid, but not a policy this edge can compile.
        var body = System.Text.Json.Nodes.JsonNode.Parse("""{ "policy": [{ "name": "x", "action": "quarantine" }] }""")!.AsObject();
        var header = new Gatehouse.Wire.Config.BundleHeader(edge.Identity.TenantId.ToString(), Gatehouse.Wire.Config.BundleConsumers.Edge, version + 1, DateTimeOffset.UtcNow, null);
        var refusal = edge.ApplyOrRefuse(new Gatehouse.Trust.Bundles.VerifiedBundle(header, body, []));

        Assert.NotNull(refusal);
        Assert.Contains("unknown action", refusal, StringComparison.Ordinal);
        Assert.Same(inForce, edge.Policy.State);
        var (status, health) = await HealthAsync(edge);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("unknown action", health.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.InRange(health.GetProperty("lastErrorAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task An_edge_that_never_got_a_bundle_says_starting_with_503()
    {
        Assert.Equal(EdgeExitCodes.Ok, (await EnrollAsync(await CreateProvisioningKeyAsync())).ExitCode);
        await _portal.StopAsync();

        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();

        var (status, body) = await HealthAsync(edge);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("starting", body.GetProperty("status").GetString());
        Assert.False(body.TryGetProperty("policyVersion", out _));
    }

    [Fact]
    public async Task The_operations_endpoint_does_not_name_its_server_software()
    {
        Assert.Equal(EdgeExitCodes.Ok, (await EnrollAsync(await CreateProvisioningKeyAsync())).ExitCode);
        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();

        using var health = await _ops.GetAsync(new Uri(edge.OpsAddress, "/healthz"));
        using var metrics = await _ops.GetAsync(new Uri(edge.OpsAddress, "/metrics"));

        Assert.Empty(health.Headers.Server);
        Assert.Empty(metrics.Headers.Server);
    }

    [Fact]
    public async Task Run_without_enrollment_exits_3_with_a_clear_message()
    {
        var (code, _, stderr) = await EdgeAsync("run", "--state-dir", StateDirectory, "--ops-listen", "http://127.0.0.1:0", "--proxy-listen", "127.0.0.1:0", "--tunnel-listen", "127.0.0.1:0");

        Assert.Equal(EdgeExitCodes.Refused, code);
        Assert.Contains("not enrolled", stderr, StringComparison.Ordinal);
        Assert.Contains(StateDirectory, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enroll_with_a_wrong_provisioning_key_exits_3_and_saves_nothing()
    {
        var (code, _, stderr) = await EnrollAsync("not-a-key");

        Assert.Equal(EdgeExitCodes.Refused, code);
        Assert.Contains("enrollment failed", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(StateDirectory, "node.json")));
    }

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public async Task Garbage_thrown_at_the_operations_listener_gets_400_or_a_close_and_health_still_answers()
    {
        Assert.Equal(EdgeExitCodes.Ok, (await EnrollAsync(await CreateProvisioningKeyAsync())).ExitCode);
        await using var edge = await EdgeHost.StartAsync(Options).DefaultTimeout();
        await WaitForHealthAsync(edge, b => b.GetProperty("portal").GetString() == "connected");
        var seed = Fuzzing.Seed(7445);
        var random = new Random(seed);

        await Parallel.ForEachAsync(Enumerable.Range(0, Fuzzing.Inputs(300)), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            byte[] input;
            lock (random)
            {
                // Random is not thread-safe: its length and its bytes are drawn under the one lock.
                input = new byte[random.Next(32, 2048)];
                random.NextBytes(input);
            }

            if (i % 2 == 0)
            {
                // Half start like a request, so that the parser gets past the first byte.
                System.Text.Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\n").CopyTo(input, 0);
            }

            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(edge.OpsAddress.Host, edge.OpsAddress.Port, ct);
            var stream = client.GetStream();
            await stream.WriteAsync(input, ct);
            client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            var answer = await Proxy.ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10));
            Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), $"{Fuzzing.Describe(seed)}: {answer}");
        });

        var (status, _) = await HealthAsync(edge);
        Assert.Equal(HttpStatusCode.OK, status);
    }
}
