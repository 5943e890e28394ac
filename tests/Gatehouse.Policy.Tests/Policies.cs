using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Policy.Tests;

/// <summary>Small policies for tests: the categories, app segments and users every test can name.</summary>
internal static class Policies
{
    public static readonly Dictionary<string, IReadOnlyList<string>> Categories = new(StringComparer.Ordinal)
    {
        ["gambling"] = ["casino.example", "bet.example", "*.poker.example"],
        ["news"] = ["news.example"],
        ["sports"] = ["sports.news.example"],
    };

    public static readonly AppSegmentSource[] Segments =
    [
        new("crm", ["crm.corp"], ["10.20.0.0/16"], ["443"]),
        new("wiki", ["*.wiki.corp"], [], []),
        new("db", [], ["10.30.0.0/24", "fd00::/64"], ["5432", "6000-6010"]),
    ];

    public static readonly PolicyUser[] Users =
    [
        new("u-alice", "alice@corp.example", ["finance", "everyone"]),
        new("u-bob", "bob@corp.example", ["engineering", "everyone"]),
        new("u-eve", "eve@corp.example", ["everyone"], Disabled: true),
    ];

    public static PolicyRuleSpec Rule(string name, string action = PolicyActions.Block, PolicyCriteria? criteria = null, bool enabled = true, IReadOnlyList<string>? inspect = null) =>
        new() { Name = name, Action = action, Criteria = criteria ?? new PolicyCriteria(), Enabled = enabled, Inspect = inspect };

    public static PolicySource Source(params PolicyRuleSpec[] rules) => new(rules, Categories, Segments, Users);

    public static CompiledPolicy Compile(params PolicyRuleSpec[] rules)
    {
        var result = PolicyCompiler.Compile(Source(rules));
        Assert.True(result.Succeeded, result.Error?.ToString());
        return result.Policy!;
    }

    /// <summary>A weekday noon in UTC: Wednesday 2026-03-04 12:00.</summary>
    public static readonly DateTimeOffset Noon = new(2026, 3, 4, 12, 0, 0, TimeSpan.Zero);

    public static FlowContext Flow(string? host = "www.example.com", string? ip = null, int port = 443, FlowProtocol protocol = FlowProtocol.Https) => new()
    {
        UserId = "u-alice",
        Host = host,
        Ip = ip is null ? null : System.Net.IPAddress.Parse(ip),
        Port = port,
        Protocol = protocol,
        Network = NetworkKind.Trusted,
        Time = Noon,
    };
}
