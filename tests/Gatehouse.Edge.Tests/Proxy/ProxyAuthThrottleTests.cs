using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Identities;
using Gatehouse.Edge.Operations;
using Gatehouse.Edge.Proxy;
using Gatehouse.Edge.Tests.TransactionLogs;
using Gatehouse.Wire.Logs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Edge.Tests.Proxy;

/// <summary>The forward proxy's limit on password guessing, counted per address and per (address, user name).</summary>
public sealed class ProxyAuthThrottleTests
{
    private const string Alice = "alice@example.test";
    private const string Password = "right-password";
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private static readonly UInt128 Here = ProxyAuthThrottle.KeyOf(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 50_000));
    private static readonly UInt128 There = ProxyAuthThrottle.KeyOf(new IPEndPoint(IPAddress.Parse("192.0.2.8"), 50_000));

    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
    private readonly ProxyCredentialTable _credentials = new(new Dictionary<string, ProxyUser>
    {
        [Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Password)))] = new("u-alice", Alice),
    });

    [Fact]
    public void Ten_wrong_passwords_for_a_name_refuse_it_from_that_address_unchecked_for_one_window()
    {
        var throttle = Throttle();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(ProxyAuthOutcome.Wrong, Try(throttle, Here, Alice, $"guess-{i}"));
        }

        // The right password too: guessing it after the limit must not be possible.
        Assert.Equal(ProxyAuthOutcome.Refused, throttle.Authenticate(Here, ProxyFixture.Basic(Alice, Password), _credentials, out var user, out var refusal));
        Assert.Null(user);
        Assert.Equal((true, Window), (refusal.PerUser, refusal.RetryAfter));

        _clock.Advance(Window - TimeSpan.FromSeconds(1));
        Assert.Equal(ProxyAuthOutcome.Refused, Try(throttle, Here, Alice, Password));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ProxyAuthOutcome.Authenticated, Try(throttle, Here, Alice, Password));
    }

    [Fact]
    public void A_name_refused_from_one_address_still_signs_in_from_another_and_other_names_from_the_first()
    {
        // A per-user lockout would let anyone lock a user out everywhere.
        var throttle = Throttle();
        for (var i = 0; i < 10; i++)
        {
            Try(throttle, Here, Alice, "wrong");
        }

        Assert.Equal(ProxyAuthOutcome.Authenticated, Try(throttle, There, Alice, Password));
        Assert.Equal(ProxyAuthOutcome.Wrong, Try(throttle, Here, "bob@example.test", "wrong"));
        Assert.Equal(ProxyAuthOutcome.Refused, Try(throttle, Here, Alice, Password));
    }

    [Fact]
    public void Wrong_passwords_for_many_names_refuse_the_whole_address()
    {
        var throttle = Throttle(new EdgeLimits { ProxyAuthFailuresPerAddress = 20 });
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(ProxyAuthOutcome.Wrong, Try(throttle, Here, $"user{i}@example.test", "wrong"));
        }

        Assert.Equal(ProxyAuthOutcome.Refused, throttle.Authenticate(Here, ProxyFixture.Basic(Alice, Password), _credentials, out _, out var refusal));
        Assert.False(refusal.PerUser);
        Assert.Equal("too many wrong proxy credentials from this address", refusal.Reason);
        Assert.Equal(ProxyAuthOutcome.Authenticated, Try(throttle, There, Alice, Password));
    }

    [Fact]
    public void Names_sprayed_first_do_not_free_the_name_guessed_next_from_its_limit()
    {
        // With a name table full of junk names, a new name was counted only towards the address's 100: 68 guesses, not 10.
        var throttle = Throttle();
        for (var i = 0; i < ProxyAuthThrottle.MaxUserNamesPerAddress; i++)
        {
            Assert.Equal(ProxyAuthOutcome.Wrong, Try(throttle, Here, $"junk{i}@example.test", "wrong"));
        }

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(ProxyAuthOutcome.Wrong, Try(throttle, Here, Alice, $"guess-{i}"));
        }

        Assert.Equal(ProxyAuthOutcome.Refused, throttle.Authenticate(Here, ProxyFixture.Basic(Alice, Password), _credentials, out _, out var refusal));
        Assert.True(refusal.PerUser);
    }

    [Fact]
    public void Failures_spread_over_more_than_a_window_never_reach_the_limit()
    {
        var throttle = Throttle();
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 9; i++)
            {
                Assert.Equal(ProxyAuthOutcome.Wrong, Try(throttle, Here, Alice, "wrong"));
            }

            _clock.Advance(Window);
        }

        Assert.Equal(ProxyAuthOutcome.Authenticated, Try(throttle, Here, Alice, Password));
    }

    [Fact]
    public void Guesses_sent_at_once_get_no_more_checked_than_guesses_sent_in_turn()
    {
        var throttle = Throttle();
        var outcomes = new ProxyAuthOutcome[2_000];

        Parallel.For(0, outcomes.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => outcomes[i] = Try(throttle, Here, Alice, $"guess-{i}"));

        Assert.Equal(10, outcomes.Count(o => o == ProxyAuthOutcome.Wrong));
        Assert.Equal(outcomes.Length - 10, outcomes.Count(o => o == ProxyAuthOutcome.Refused));
    }

    [Fact]
    public void An_address_with_no_failures_takes_the_short_path_and_leaves_nothing_behind()
    {
        var throttle = Throttle();

        Assert.Equal(ProxyAuthOutcome.Authenticated, Try(throttle, Here, Alice, Password));
        Assert.Equal(ProxyAuthOutcome.Authenticated, Try(throttle, Here, Alice, Password));
        Assert.Equal(0, throttle.Tracked);

        Try(throttle, Here, Alice, "wrong");
        Assert.Equal(1, throttle.Tracked);
        _clock.Advance(Window);
        Assert.Equal(ProxyAuthOutcome.Authenticated, Try(throttle, Here, Alice, Password));
        Assert.Equal(0, throttle.Tracked);
    }

    [Fact]
    public void Addresses_whose_counts_expired_are_forgotten_without_waiting_for_them_to_come_back()
    {
        using var metrics = new EdgeMetrics();
        var throttle = Throttle(metrics: metrics);
        Try(throttle, Here, Alice, "wrong");

        // A failure from another address a window later forgets the first, which never came back (it stayed, and counted).
        _clock.Advance(Window);
        Try(throttle, There, Alice, "wrong");
        Assert.Equal(1, throttle.Tracked);

        // Without any request, the gauge counts live addresses only: the second's count is live until its window ends.
        _clock.Advance(Window - TimeSpan.FromSeconds(1));
        Assert.Contains("gatehouse_edge_proxy_auth_tracked_addresses 1", metrics.Exporter.Render().Split('\n'));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains("gatehouse_edge_proxy_auth_tracked_addresses 0", metrics.Exporter.Render().Split('\n'));
        Assert.Equal(0, throttle.Tracked);
    }

    [Fact]
    public void A_refused_address_is_not_forgotten_before_its_refusal_ends()
    {
        var throttle = Throttle();
        for (var i = 0; i < 10; i++)
        {
            Try(throttle, Here, Alice, "wrong");
        }

        // Failures from elsewhere, later in the window, sweep the table: the refusal stays.
        _clock.Advance(Window - TimeSpan.FromSeconds(1));
        Try(throttle, There, Alice, "wrong");
        Assert.Equal(2, throttle.CountLive());
        Assert.Equal(ProxyAuthOutcome.Refused, Try(throttle, Here, Alice, Password));
    }

    [Fact]
    public void Failures_from_many_addresses_keep_the_table_bounded_and_refused_addresses_in_it()
    {
        var throttle = Throttle(new EdgeLimits { ProxyAuthTrackedAddresses = 100 });
        for (var i = 0; i < 10; i++)
        {
            Try(throttle, Here, Alice, "wrong");
        }

        for (var i = 0; i < 5_000; i++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(1));
            var address = new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);
            Try(throttle, ProxyAuthThrottle.KeyOf(new IPEndPoint(address, 1)), Alice, "wrong");
            Assert.True(throttle.Tracked <= 100, $"{throttle.Tracked} addresses tracked");
        }

        Assert.Equal(ProxyAuthOutcome.Refused, Try(throttle, Here, Alice, Password));
    }

    [Fact]
    public void An_ipv6_client_is_counted_by_its_64_and_an_ipv4_client_alike_on_either_socket()
    {
        static UInt128 Key(string address) => ProxyAuthThrottle.KeyOf(new IPEndPoint(IPAddress.Parse(address), 1));

        Assert.Equal(Key("2001:db8:1:2::1"), Key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        Assert.NotEqual(Key("2001:db8:1:2::1"), Key("2001:db8:1:3::1"));
        Assert.Equal(Key("192.0.2.7"), Key("::ffff:192.0.2.7"));
        Assert.Equal("2001:db8:1:2::/64", ProxyAuthThrottle.Describe(Key("2001:db8:1:2::9")));
        Assert.Equal("192.0.2.7", ProxyAuthThrottle.Describe(Key("::ffff:192.0.2.7")));
    }

    [Fact]
    public void Wrong_and_refused_credentials_are_counted_in_the_metrics()
    {
        using var metrics = new EdgeMetrics();
        var throttle = Throttle(metrics: metrics);
        for (var i = 0; i < 12; i++)
        {
            Try(throttle, Here, Alice, "wrong");
        }

        var lines = metrics.Exporter.Render().Split('\n');
        Assert.Contains("gatehouse_edge_proxy_auth_failures_total 10", lines);
        Assert.Contains("gatehouse_edge_proxy_auth_refused_total{limit=\"user\"} 2", lines);
        Assert.Contains("gatehouse_edge_proxy_auth_refused_total{limit=\"address\"} 0", lines);
    }

    [Fact]
    public async Task The_proxy_answers_429_with_Retry_After_past_the_limit_and_records_why()
    {
        var tenant = new TestTenant();
        var alice = tenant.AddUser(Alice);
        await using var origin = await Origin.StartAsync();
        await using var proxy = await ProxyFixture.StartAsync(tenant, time: _clock);
        var url = $"http://localhost:{origin.Port}/hello";
        byte[] Get(string password) => Encoding.ASCII.GetBytes($"GET {url} HTTP/1.1\r\nHost: localhost\r\nProxy-Authorization: {ProxyFixture.Basic(alice.Email, password)}\r\n\r\n");

        for (var i = 0; i < 10; i++)
        {
            Assert.StartsWith("HTTP/1.1 407 ", await proxy.RawAsync(Get("wrong"), until: "</html>"), StringComparison.Ordinal);
        }

        var refused = await proxy.RawAsync(Get(alice.Password), until: "</html>");
        var connect = await proxy.RawAsync(Encoding.ASCII.GetBytes($"CONNECT localhost:{origin.Port} HTTP/1.1\r\nProxy-Authorization: {ProxyFixture.Basic(alice.Email, alice.Password)}\r\n\r\n"), until: "</html>");

        Assert.StartsWith("HTTP/1.1 429 ", refused, StringComparison.Ordinal);
        Assert.Contains("\r\nRetry-After: 300\r\n", refused, StringComparison.Ordinal);
        Assert.DoesNotContain("Proxy-Authenticate", refused, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 429 ", connect, StringComparison.Ordinal);
        Assert.Empty(origin.Requests);
        var record = await proxy.Recorder.WaitForAsync(r => r.Status == 429 && r.Method == "GET");
        Assert.Equal((TransactionActions.Denied, url, null), (record.Action, record.Url, record.UserId));
        Assert.Equal("too many wrong proxy credentials for this user name from this address: refused for 300 s", record.Reason);

        // Another address signs in as usual, and so does this one once the window has passed.
        Assert.StartsWith("HTTP/1.1 200 ", await proxy.RawAsync(Get(alice.Password), until: "hello from origin", from: IPAddress.Parse("127.0.0.2")), StringComparison.Ordinal);
        _clock.Advance(Window);
        Assert.StartsWith("HTTP/1.1 200 ", await proxy.RawAsync(Get(alice.Password), until: "hello from origin"), StringComparison.Ordinal);
    }

    private ProxyAuthThrottle Throttle(EdgeLimits? limits = null, EdgeMetrics? metrics = null) =>
        new(limits ?? new EdgeLimits(), _clock, metrics, NullLogger.Instance);

    private ProxyAuthOutcome Try(ProxyAuthThrottle throttle, UInt128 client, string name, string password) =>
        throttle.Authenticate(client, ProxyFixture.Basic(name, password), _credentials, out _, out _);
}
