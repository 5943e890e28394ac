using Gatehouse.Edge.Commands;
using Gatehouse.Edge.Flows;
using Gatehouse.Edge.Hosting;
using Gatehouse.Edge.TransactionLogs;

namespace Gatehouse.Edge.Tests.Commands;

/// <summary>What `gatehouse-edge run`'s options become: the limits and the log sinks' tuning, and the messages for bad values.</summary>
public sealed class RunOptionsTests
{
    /// <summary>Each limit's flag, a value for it other than its default, and where that value must land.</summary>
    public static TheoryData<string, string, Func<EdgeLimits, object>, object> LimitFlags => new()
    {
        { "--header-timeout", "3s", l => l.HeaderTimeout, TimeSpan.FromSeconds(3) },
        { "--keep-alive-timeout", "90s", l => l.KeepAliveTimeout, TimeSpan.FromSeconds(90) },
        { "--idle-timeout", "2h", l => l.IdleTimeout, TimeSpan.FromHours(2) },
        { "--connect-timeout", "2500ms", l => l.ConnectTimeout, TimeSpan.FromMilliseconds(2500) },
        { "--response-timeout", "5m", l => l.ResponseTimeout, TimeSpan.FromMinutes(5) },
        { "--drain-timeout", "0s", l => l.DrainTimeout, TimeSpan.Zero },
        { "--max-head-size", "64KiB", l => l.MaxHeadBytes, 65536 },
        { "--tunnel-stream-window", "1MiB", l => l.TunnelStreamWindowBytes, 1024 * 1024 },
        { "--tunnel-connection-window", "64MiB", l => l.TunnelConnectionWindowBytes, 64 * 1024 * 1024 },
        { "--max-connections", "200000", l => l.MaxConnections, 200_000L },
        { "--max-streams-per-connection", "250", l => l.MaxStreamsPerConnection, 250 },
        { "--max-connections-per-device", "4", l => l.MaxConnectionsPerDevice, 4 },
        { "--proxy-auth-failures-per-user", "3", l => l.ProxyAuthFailuresPerUser, 3 },
        { "--proxy-auth-failures-per-address", "500", l => l.ProxyAuthFailuresPerAddress, 500 },
        { "--proxy-auth-failure-window", "1d", l => l.ProxyAuthFailureWindow, TimeSpan.FromDays(1) },
        { "--proxy-auth-tracked-addresses", "1024", l => l.ProxyAuthTrackedAddresses, 1024 },
    };

    [Theory]
    [MemberData(nameof(LimitFlags))]
    public void Each_limit_flag_sets_its_limit_and_leaves_the_others_at_their_defaults(string flag, string value, Func<EdgeLimits, object> limit, object expected)
    {
        var options = Read(flag, value);

        Assert.Equal(expected, limit(options.Limits));
        var defaults = new EdgeLimits();
        Assert.Equal(1, typeof(EdgeLimits).GetProperties().Count(p => !Equals(p.GetValue(defaults), p.GetValue(options.Limits))));
    }

    [Fact]
    public void Every_limit_has_a_flag_and_every_flag_is_tested_above()
    {
        var tested = LimitFlags.Select(row => (string)row[0]).ToHashSet();

        Assert.Equal(typeof(EdgeLimits).GetProperties().Length, LimitFlag.All.Count);
        Assert.Equal(LimitFlag.All.Select(f => f.Name).Order(), tested.Order());
    }

    [Fact]
    public void Nothing_given_is_the_defaults()
    {
        var options = Read();

        Assert.Equal(new EdgeLimits(), options.Limits);
        Assert.Equal(new TransactionLogOptions { Directory = Path.Combine(EdgeOptions.DefaultStateDirectory, "logs") }, options.Logs);
    }

    [Fact]
    public void The_log_sinks_tuning_is_read_from_its_flags()
    {
        var options = Read("--log-queue-capacity", "1024", "--log-batch-size", "200", "--log-flush-interval", "250ms", "--log-dir", "off");

        Assert.Equal(1024, options.Logs.QueueCapacity);
        Assert.Equal(200, options.Logs.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.Logs.FlushInterval);
        Assert.Null(options.Logs.Directory);
    }

    [Theory]
    [InlineData("--idle-timeout", "soon", "--idle-timeout must be a duration from 1ms to 24d such as 30s, 5m or 2h, not \"soon\".")]
    [InlineData("--idle-timeout", "0s", "--idle-timeout must be a duration from 1ms")]
    [InlineData("--idle-timeout", "25d", "--idle-timeout must be a duration from 1ms to 24d")]
    [InlineData("--header-timeout", "10", "--header-timeout must be a duration")]
    [InlineData("--drain-timeout", "-1s", "--drain-timeout")]
    [InlineData("--max-head-size", "512", "--max-head-size must be a size from 1KiB to 1MiB in bytes, KiB, MiB or GiB, such as 32KiB, not \"512\".")]
    [InlineData("--max-head-size", "2MiB", "--max-head-size must be a size from 1KiB to 1MiB")]
    [InlineData("--tunnel-stream-window", "32KiB", "--tunnel-stream-window must be a size from 64KiB to 1GiB in bytes, KiB, MiB or GiB, such as 8MiB, not \"32KiB\".")]
    [InlineData("--tunnel-stream-window", "32MiB", "--tunnel-connection-window (16MiB) must be at least --tunnel-stream-window (32MiB)")]
    [InlineData("--max-connections", "0", "--max-connections must be a whole number from 1 to 2147483647, not \"0\".")]
    [InlineData("--max-connections", "lots", "--max-connections must be a whole number")]
    [InlineData("--max-connections-per-device", "99999999999", "--max-connections-per-device must be a whole number")]
    [InlineData("--proxy-auth-failures-per-address", "5", "--proxy-auth-failures-per-address (5) must be at least --proxy-auth-failures-per-user (10)")]
    [InlineData("--log-batch-size", "5000", "--log-batch-size must be from 1 to 1000 records")]
    [InlineData("--log-flush-interval", "1 fortnight", "--log-flush-interval must be a duration")]
    [InlineData("--log-queue-capacity", "many", "--log-queue-capacity must be a whole number")]
    public void A_bad_value_is_refused_with_its_flag_and_what_it_may_be(string flag, string value, string message)
    {
        Assert.Null(EdgeCommand.ReadRunOptions([flag, value], out var errors));

        Assert.Contains(errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("edge-1.example:3128")]
    [InlineData("10.0.0.5:8080")]
    [InlineData("[2001:db8::1]:3128")]
    public void A_proxy_address_clients_can_reach_is_what_the_pac_file_will_say(string address) =>
        Assert.Equal(address, Read("--proxy-address", address).ProxyAdvertise);

    [Theory]
    [InlineData("not-an-address")]
    [InlineData("edge.example")]
    [InlineData("edge.example:0")]
    [InlineData("2001:db8::1:3128")]
    [InlineData("edge.example:3128; DIRECT")]
    [InlineData("\"; return \"DIRECT\"; //:3128")]
    public void A_proxy_address_that_is_not_host_and_port_is_refused_before_it_reaches_the_pac_file(string address)
    {
        Assert.Null(EdgeCommand.ReadRunOptions(["--proxy-address", address], out var errors));

        Assert.Equal($"--proxy-address must be HOST:PORT with a host name or address and a port from 1 to 65535 (IPv6 in brackets), for example edge-1.example:3128; not \"{address}\".", Assert.Single(errors));
    }

    [Theory]
    [InlineData("--ops-listen")]
    [InlineData("--proxy-listen")]
    [InlineData("--tunnel-listen")]
    public void A_listen_address_that_asks_for_https_is_refused_rather_than_served_in_plain_http(string option)
    {
        Assert.Null(EdgeCommand.ReadRunOptions([option, "https://127.0.0.1:7445"], out var errors));

        Assert.StartsWith($"{option}: \"https://127.0.0.1:7445\" asks for https", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_value_is_named_at_once()
    {
        Assert.Null(EdgeCommand.ReadRunOptions(["--idle-timeout", "soon", "--max-connections", "0", "--log-batch-size", "0", "--proxy-listen", "nowhere"], out var errors));

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("--idle-timeout ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--max-connections ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--log-batch-size ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("--proxy-listen", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_with_a_bad_limit_exits_2_naming_it_before_anything_starts()
    {
        var stateDirectory = Path.Combine(Path.GetTempPath(), "gatehouse-edge-never-made-" + Guid.NewGuid().ToString("N"));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await EdgeCommand.RunAsync(["run", "--state-dir", stateDirectory, "--idle-timeout", "forever"], stdout, stderr, CancellationToken.None);

        Assert.Equal(EdgeExitCodes.Usage, code);
        Assert.Equal("error: --idle-timeout must be a duration from 1ms to 24d such as 30s, 5m or 2h, not \"forever\"." + Environment.NewLine, stderr.ToString());
        Assert.False(Directory.Exists(stateDirectory));
    }

    [Fact]
    public async Task The_help_lists_every_limit_with_its_default()
    {
        using var stdout = new StringWriter();

        Assert.Equal(EdgeExitCodes.Ok, await EdgeCommand.RunAsync(["run", "--help"], stdout, TextWriter.Null, CancellationToken.None));

        var help = stdout.ToString();
        Assert.All(LimitFlag.All, flag => Assert.Contains(flag.Name, help, StringComparison.Ordinal));
        Assert.Contains("default 5m", help, StringComparison.Ordinal);
        Assert.Contains("default 32KiB", help, StringComparison.Ordinal);
        Assert.Contains("default 50000", help, StringComparison.Ordinal);
        Assert.Contains("--log-flush-interval", help, StringComparison.Ordinal);
    }

    private static EdgeOptions Read(params string[] args)
    {
        var options = EdgeCommand.ReadRunOptions(args, out var errors);
        Assert.True(options is not null, string.Join(Environment.NewLine, errors));
        return options;
    }
}
