using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Edge.Flows;
using Gatehouse.Flows;
using Gatehouse.Wire.Logs;
using Gatehouse.Testing;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>Egress safety, slow and idle clients, drain, and generated garbage thrown at the listener.</summary>
public sealed class ProxyRobustnessTests : IAsyncLifetime
{
    private readonly TestTenant _tenant = new();
    private (string Id, string Email, string Password) _alice;
    private Origin _origin = null!;
    private EchoServer _echo = null!;

    public async Task InitializeAsync()
    {
        _alice = _tenant.AddUser("alice@example.test");
        _tenant.AddRule("allow-all", "allow", new JsonObject { ["ports"] = new JsonArray("1-65535") });
        _origin = await Origin.StartAsync();
        _echo = new EchoServer();
    }

    public async Task DisposeAsync()
    {
        await _origin.DisposeAsync();
        _echo.Dispose();
    }

    private string Auth => ProxyFixture.Basic(_alice.Email, _alice.Password);

    [Fact]
    public async Task Loopback_is_refused_whatever_the_policy_unless_allowed_in_the_edge_configuration()
    {
        await using var proxy = await ProxyFixture.StartAsync(_tenant, allowLoopback: false);
        using var client = proxy.Client(_alice.Email, _alice.Password);

        using var byName = await client.GetAsync($"http://localhost:{_origin.Port}/hello");
        using var byAddress = await client.GetAsync($"http://127.0.0.1:{_origin.Port}/hello");
        using var linkLocal = await client.GetAsync("http://169.254.169.254/latest/meta-data/");
        var connect = await proxy.RawAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{_echo.Port} HTTP/1.1\r\nProxy-Authorization: {Auth}\r\n\r\n"), until: "reference");

        Assert.Equal(HttpStatusCode.Forbidden, byName.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byAddress.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, linkLocal.StatusCode);
        Assert.StartsWith("HTTP/1.1 403 ", connect, StringComparison.Ordinal);
        // No rule decided: no Gatehouse-Rule header (it was sent empty), the reason and the reference are.
        Assert.False(byName.Headers.Contains("Gatehouse-Rule"));
        Assert.Contains("Gatehouse-Reference: ", connect, StringComparison.Ordinal);
        Assert.DoesNotContain("Gatehouse-Rule", connect, StringComparison.Ordinal);
        Assert.Empty(_origin.Requests);
        Assert.Equal(0, _echo.Accepted);
        // HttpClient asks once without credentials (407, denied too); the four egress refusals are what count here.
        var egress = proxy.Recorder.Records.Where(r => r.Action == TransactionActions.Denied && r.Status == 403).ToList();
        Assert.Equal(4, egress.Count);
        Assert.All(egress, r => Assert.StartsWith("egress refused", r.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Egress_guard_refuses_own_and_management_addresses_and_allows_named_ranges()
    {
        var own = IPAddress.Parse("192.0.2.10");
        var guard = new EgressGuard(managementNetworks: [IPNetwork.Parse("10.20.0.0/16")], ownAddresses: () => [own]);
        var allowing = new EgressGuard(allowed: [IPNetwork.Parse("10.20.5.0/24")], managementNetworks: [IPNetwork.Parse("10.20.0.0/16")], ownAddresses: () => [own]);

        Assert.NotNull(guard.Refusal(own));
        Assert.NotNull(guard.Refusal(IPAddress.Parse("10.20.5.5")));
        Assert.NotNull(guard.Refusal(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.NotNull(guard.Refusal(IPAddress.Parse("fe80::1")));
        Assert.NotNull(guard.Refusal(IPAddress.Parse("0.0.0.0")));
        Assert.NotNull(guard.Refusal(IPAddress.Broadcast));
        Assert.Null(guard.Refusal(IPAddress.Parse("198.51.100.7")));
        Assert.Null(allowing.Refusal(IPAddress.Parse("10.20.5.5")));
        Assert.NotNull(allowing.Refusal(IPAddress.Parse("10.20.6.5")));
    }

    [Fact]
    public async Task A_slow_header_client_is_cut_and_does_not_hold_up_others()
    {
        await using var proxy = await ProxyFixture.StartAsync(_tenant, new EdgeLimits { HeaderTimeout = TimeSpan.FromSeconds(1) });
        var slow = new List<TcpClient>();
        for (var i = 0; i < 50; i++)
        {
            var c = new TcpClient();
            await c.ConnectAsync(proxy.Address);
            await c.GetStream().WriteAsync("GET http://localhost/ HTTP/1.1\r\nX-Slow: "u8.ToArray());
            slow.Add(c);
        }

        using var client = proxy.Client(_alice.Email, _alice.Password);
        Assert.Equal("hello from origin", await client.GetStringAsync($"http://localhost:{_origin.Port}/hello"));

        var answer = await ProxyFixture.ReadAsync(slow[0].GetStream(), null, TimeSpan.FromSeconds(10));
        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal);
        var record = await proxy.Recorder.WaitForAsync(r => r.Status == 408);
        Assert.Equal((TransactionActions.Denied, "the request head did not arrive in time", null), (record.Action, record.Reason, record.UserId));
        slow.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task A_kept_alive_connection_whose_next_head_trickles_is_cut_after_the_header_timeout_not_the_keep_alive_one()
    {
        await using var proxy = await ProxyFixture.StartAsync(_tenant, new EdgeLimits { HeaderTimeout = TimeSpan.FromSeconds(1), KeepAliveTimeout = TimeSpan.FromMinutes(5) });
        using var client = new TcpClient();
        await client.ConnectAsync(proxy.Address);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://localhost:{_origin.Port}/hello HTTP/1.1\r\nHost: localhost\r\nProxy-Authorization: {Auth}\r\n\r\n"));
        Assert.Contains("hello from origin", await ProxyFixture.ReadAsync(stream, "hello from origin", TimeSpan.FromSeconds(10)), StringComparison.Ordinal);

        // The next request's head begins and stops: the header timeout, not the keep-alive timeout, ends it.
        await stream.WriteAsync("GET http://localhost/ HTTP/1.1\r\nX-Slow: "u8.ToArray());
        var answer = await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10));

        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_idle_flow_is_ended_after_the_idle_timeout()
    {
        await using var proxy = await ProxyFixture.StartAsync(_tenant, new EdgeLimits { IdleTimeout = TimeSpan.FromSeconds(1) });
        using var client = new TcpClient();
        await client.ConnectAsync(proxy.Address);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT localhost:{_echo.Port} HTTP/1.1\r\nProxy-Authorization: {Auth}\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200 ", await ProxyFixture.ReadAsync(stream, "\r\n\r\n", TimeSpan.FromSeconds(10)), StringComparison.Ordinal);

        var rest = await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(10));

        Assert.Equal(string.Empty, rest);
        Assert.Equal(1, proxy.Path.Flows.IdleClosed);
        Assert.Equal(0, proxy.Path.Flows.Count);
    }

    [Fact]
    [Trait(Fuzzing.Trait, Fuzzing.Category)]
    public async Task Generated_garbage_gets_400_or_a_closed_connection_and_never_a_hang()
    {
        // Garbage with a changed byte in its credentials is a wrong password, and from one address enough of them refuse
        // every request unchecked (429): the inputs would stop reaching the parsers past the head, and the last request
        // with the right password would be refused too. Password guessing has tests of its own.
        var limits = new EdgeLimits { HeaderTimeout = TimeSpan.FromSeconds(2), ProxyAuthFailuresPerUser = int.MaxValue, ProxyAuthFailuresPerAddress = int.MaxValue };
        await using var proxy = await ProxyFixture.StartAsync(_tenant, limits);
        var seed = Fuzzing.Seed(20261122);
        var random = new Random(seed);
        var valid = Encoding.ASCII.GetBytes($"GET http://localhost:{_origin.Port}/hello HTTP/1.1\r\nHost: localhost\r\nProxy-Authorization: {Auth}\r\nContent-Length: 3\r\n\r\nabc");
        var count = Fuzzing.Inputs(1000);
        var inputs = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            inputs.Add(Generate(random, valid, i));
        }

        var answers = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(inputs, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (input, ct) =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(proxy.Address, ct);
            var stream = client.GetStream();
            await stream.WriteAsync(input, ct);
            client.Client.Shutdown(SocketShutdown.Send);
            answers.Add(await ProxyFixture.ReadAsync(stream, null, TimeSpan.FromSeconds(8)));
        });

        Assert.Equal(inputs.Count, answers.Count);
        foreach (var answer in answers)
        {
            // Each answer is nothing (closed), or whole HTTP responses the proxy or the origin wrote.
            Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 ", StringComparison.Ordinal), $"{Fuzzing.Describe(seed)}: {answer[..Math.Min(answer.Length, 200)]}");
            // 502/504 are honest answers to a mangled host or port; a 500 would be the proxy failing.
            Assert.False(answer.StartsWith("HTTP/1.1 500", StringComparison.Ordinal), $"{Fuzzing.Describe(seed)}: {answer[..Math.Min(answer.Length, 200)]}");
        }

        using (var client = proxy.Client(_alice.Email, _alice.Password))
        {
            Assert.Equal("hello from origin", await client.GetStringAsync($"http://localhost:{_origin.Port}/hello"));
        }

        // Nothing is left open once the clients are gone: no leaked flow from any of the garbage.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (proxy.Path.Flows.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(0, proxy.Path.Flows.Count);
    }

    private static byte[] Generate(Random random, byte[] valid, int i)
    {
        switch (i % 4)
        {
            case 0:
                var noise = new byte[random.Next(1, 4096)];
                random.NextBytes(noise);
                return noise;
            case 1:
                var flipped = (byte[])valid.Clone();
                for (var n = random.Next(1, 8); n > 0; n--)
                {
                    flipped[random.Next(flipped.Length)] = (byte)random.Next(256);
                }

                return flipped;
            case 2:
                return valid[..random.Next(valid.Length)];
            default:
                var text = Encoding.ASCII.GetString(valid);
                string[] tokens = ["\r\n", ":", " ", "Content-Length: 99999999999999999999\r\n", "Transfer-Encoding: chunked\r\n", "\n", "\0", "CONNECT ", "HTTP/1.1", "%", "[", "]:", "Expect: 100-continue\r\n"];
                var at = random.Next(text.Length);
                return Encoding.ASCII.GetBytes(text[..at] + tokens[random.Next(tokens.Length)] + text[at..]);
        }
    }
}
