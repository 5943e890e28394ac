using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Policy;
using static Gatehouse.Policy.Tests.Policies;

namespace Gatehouse.Policy.Tests.Decisions;

public sealed class CriteriaTests
{
    private static readonly DateTimeOffset Wednesday0759Paris = new(2026, 3, 4, 6, 59, 0, TimeSpan.Zero); // 07:59 CET
    private static readonly DateTimeOffset Wednesday0800Paris = new(2026, 3, 4, 7, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Wednesday1800Paris = new(2026, 3, 4, 17, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset FridayLateUtcSaturdayTokyo = new(2026, 3, 6, 16, 0, 0, TimeSpan.Zero); // Sat 01:00 in Tokyo

    private static readonly PolicySchedule OfficeParis = new(["mon", "tue", "wed", "thu", "fri"], "08:00", "18:00", "Europe/Paris");

    /// <summary>Name → (criteria, flow, expected to match).</summary>
    private static readonly Dictionary<string, (PolicyCriteria Criteria, FlowContext Flow, bool Matches)> Cases = new()
    {
        ["user by id resolves email"] = (new() { Users = ["alice@corp.example"] }, Flow(), true),
        ["user email ignores case"] = (new() { Users = ["alice@corp.example"] }, Flow() with { UserId = null, UserEmail = "Alice@Corp.Example" }, true),
        ["other user"] = (new() { Users = ["bob@corp.example"] }, Flow(), false),
        ["no user on flow"] = (new() { Users = ["alice@corp.example"] }, Flow() with { UserId = null }, false),
        ["group from the users table"] = (new() { Groups = ["finance"] }, Flow(), true),
        ["group not held"] = (new() { Groups = ["engineering"] }, Flow(), false),
        ["groups on the flow win over the table"] = (new() { Groups = ["engineering"] }, Flow() with { Groups = new[] { "engineering" } }, true),
        ["one of several groups (OR)"] = (new() { Groups = ["engineering", "finance"] }, Flow(), true),
        ["posture held"] = (new() { Posture = ["disk-encrypted"] }, Flow() with { Posture = new[] { "os:linux", "disk-encrypted" } }, true),
        ["posture missing"] = (new() { Posture = ["disk-encrypted"] }, Flow() with { Posture = new[] { "os:linux" } }, false),
        ["network trusted"] = (new() { Networks = ["trusted"] }, Flow(), true),
        ["network untrusted rule, trusted flow"] = (new() { Networks = ["untrusted", "vpn"] }, Flow(), false),
        ["network unknown"] = (new() { Networks = ["trusted"] }, Flow() with { Network = NetworkKind.Unknown }, false),
        ["schedule start is inside"] = (new() { Schedule = OfficeParis }, Flow() with { Time = Wednesday0800Paris }, true),
        ["schedule minute before start"] = (new() { Schedule = OfficeParis }, Flow() with { Time = Wednesday0759Paris }, false),
        ["schedule end is outside"] = (new() { Schedule = OfficeParis }, Flow() with { Time = Wednesday1800Paris }, false),
        ["schedule day is the local day"] = (new() { Schedule = new(["sat"], "00:00", "02:00", "Asia/Tokyo") }, Flow() with { Time = FridayLateUtcSaturdayTokyo }, true),
        ["schedule friday in utc is saturday in tokyo"] = (new() { Schedule = new(["fri"], "00:00", "23:59", "Asia/Tokyo") }, Flow() with { Time = FridayLateUtcSaturdayTokyo }, false),
        ["schedule default zone is utc"] = (new() { Schedule = new(["wed"], "11:00", "13:00") }, Flow(), true),
        ["domain exact"] = (new() { Domains = ["example.com"] }, Flow("example.com"), true),
        ["domain exact does not cover subdomains"] = (new() { Domains = ["example.com"] }, Flow("www.example.com"), false),
        ["domain wildcard covers subdomain"] = (new() { Domains = ["*.example.com"] }, Flow("a.b.example.com"), true),
        ["domain wildcard does not cover apex"] = (new() { Domains = ["*.example.com"] }, Flow("example.com"), false),
        ["domain host case and final dot"] = (new() { Domains = ["www.example.com"] }, Flow("WWW.Example.COM."), true),
        ["domain suffix is not a label boundary"] = (new() { Domains = ["*.example.com"] }, Flow("www.badexample.com"), false),
        ["domain other"] = (new() { Domains = ["*.example.com"] }, Flow("www.example.org"), false),
        ["domain from url when no host"] = (new() { Domains = ["shop.example.com"] }, Flow(null) with { Url = "https://user@Shop.Example.com:8443/cart?x=1" }, true),
        ["domain with no host"] = (new() { Domains = ["example.com"] }, Flow(null, "10.0.0.1"), false),
        ["category covers domain"] = (new() { Categories = ["gambling"] }, Flow("casino.example"), true),
        ["category covers subdomains"] = (new() { Categories = ["gambling"] }, Flow("www.casino.example"), true),
        ["category wildcard entry not apex"] = (new() { Categories = ["gambling"] }, Flow("poker.example"), false),
        ["category wildcard entry below"] = (new() { Categories = ["gambling"] }, Flow("eu.poker.example"), true),
        ["category other"] = (new() { Categories = ["gambling"] }, Flow("news.example"), false),
        ["cidr v4 contains"] = (new() { Cidrs = ["10.1.0.0/16"] }, Flow(null, "10.1.2.3"), true),
        ["cidr v4 outside"] = (new() { Cidrs = ["10.1.0.0/16"] }, Flow(null, "10.2.0.1"), false),
        ["cidr bare address"] = (new() { Cidrs = ["10.1.2.3"] }, Flow(null, "10.1.2.3"), true),
        ["cidr v4-mapped v6 counts as v4"] = (new() { Cidrs = ["10.1.0.0/16"] }, Flow(null, "::ffff:10.1.2.3"), true),
        ["cidr default route"] = (new() { Cidrs = ["0.0.0.0/0"] }, Flow(null, "203.0.113.9"), true),
        ["cidr v6 contains"] = (new() { Cidrs = ["2001:db8::/32"] }, Flow(null, "2001:db8:1::5"), true),
        ["cidr v6 outside"] = (new() { Cidrs = ["2001:db8::/32"] }, Flow(null, "2001:db9::5"), false),
        ["cidr v4 rule, v6 flow"] = (new() { Cidrs = ["0.0.0.0/0"] }, Flow(null, "2001:db8::1"), false),
        ["cidr no ip"] = (new() { Cidrs = ["0.0.0.0/0"] }, Flow(), false),
        ["port single"] = (new() { Ports = ["443"] }, Flow(), true),
        ["port other"] = (new() { Ports = ["80"] }, Flow(), false),
        ["port range low end"] = (new() { Ports = ["8000-8080"] }, Flow(port: 8000), true),
        ["port range high end"] = (new() { Ports = ["8000-8080"] }, Flow(port: 8080), true),
        ["port past range"] = (new() { Ports = ["8000-8080"] }, Flow(port: 8081), false),
        ["protocol https"] = (new() { Protocols = ["https"] }, Flow(), true),
        ["protocol tcp covers https"] = (new() { Protocols = ["tcp"] }, Flow(), true),
        ["protocol udp not https"] = (new() { Protocols = ["udp"] }, Flow(), false),
        ["protocol http is not https"] = (new() { Protocols = ["http"] }, Flow(), false),
        ["protocol dns"] = (new() { Protocols = ["dns"] }, Flow(port: 53, protocol: FlowProtocol.Dns), true),
        ["segment by domain and port"] = (new() { AppSegments = ["crm"] }, Flow("crm.corp"), true),
        ["segment by ip and port"] = (new() { AppSegments = ["crm"] }, Flow(null, "10.20.1.1"), true),
        ["segment wrong port"] = (new() { AppSegments = ["crm"] }, Flow("crm.corp", port: 80), false),
        ["segment wildcard without ports"] = (new() { AppSegments = ["wiki"] }, Flow("eng.wiki.corp", port: 8443), true),
        ["segment v6 and port range"] = (new() { AppSegments = ["db"] }, Flow(null, "fd00::7", port: 6005, protocol: FlowProtocol.Tcp), true),
        ["segment other"] = (new() { AppSegments = ["db"] }, Flow("crm.corp"), false),
        ["AND: every criterion must match"] = (new() { Domains = ["www.example.com"], Ports = ["80"] }, Flow(), false),
        ["AND: all match"] = (new() { Domains = ["www.example.com"], Ports = ["443"], Groups = ["finance"], Networks = ["trusted"] }, Flow(), true),
        ["empty criteria match everything"] = (new(), Flow(null), true),
        ["empty list is no condition"] = (new() { Domains = [] }, Flow(), true),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Criterion_matches_as_documented(string name)
    {
        var (criteria, flow, matches) = Cases[name];
        var policy = Compile(Rule("rule", PolicyActions.Block, criteria));

        var decision = policy.Decide(flow);

        Assert.Equal(matches ? 0 : Decision.NoRuleIndex, decision.RuleIndex);
        Assert.Equal(matches ? PolicyAction.Block : PolicyAction.Allow, decision.Action);
        Assert.Equal(decision, policy.Explain(flow).Decision);
    }

    [Theory]
    [InlineData("eng.wiki.corp", null, true)]
    [InlineData("hr.wiki.corp", null, false)]
    [InlineData(null, "10.9.0.1", true)]
    [InlineData(null, "10.1.0.1", false)]
    [InlineData("hr.wiki.corp", "10.9.0.1", false)]
    public void An_app_segment_criterion_matches_only_the_flows_most_specific_segment(string? host, string? ip, bool matches)
    {
        // An app carved out of a wider segment is an app of its own: a rule for the wider one let everyone in.
        AppSegmentSource[] segments =
        [
            new("wiki", ["*.wiki.corp"], ["10.0.0.0/8"], []),
            new("wiki-hr", ["hr.wiki.corp"], ["10.1.0.0/16"], []),
        ];
        var compiled = PolicyCompiler.Compile(new PolicySource([Rule("wiki", PolicyActions.Allow, new() { AppSegments = ["wiki"] })], Categories, segments, Users));
        var flow = Flow(host, ip);

        var decision = compiled.Policy!.Decide(flow);

        Assert.Equal(matches, decision.MatchedRule);
        Assert.Equal(host is "hr.wiki.corp" || ip == "10.1.0.1" ? "wiki-hr" : "wiki", compiled.Policy.AppSegmentOf(flow));
    }
}
