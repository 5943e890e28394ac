using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Policy;
using static Gatehouse.Policy.Tests.Policies;

namespace Gatehouse.Policy.Tests.Compilation;

public sealed class CompileErrorTests
{
    private static readonly Dictionary<string, (PolicyRuleSpec Rule, string Field, string Reason)> Cases = new()
    {
        ["unknown category"] = (Rule("bad", criteria: new() { Categories = ["gamblng"] }), "criteria.categories[0]", "no URL category named 'gamblng'"),
        ["unknown segment"] = (Rule("bad", criteria: new() { AppSegments = ["crm", "erp"] }), "criteria.appSegments[1]", "no app segment named 'erp'"),
        ["bad cidr"] = (Rule("bad", criteria: new() { Cidrs = ["10.0.0.0/33"] }), "criteria.cidrs[0]", "'10.0.0.0/33' is not a CIDR network"),
        ["bad v6 prefix"] = (Rule("bad", criteria: new() { Cidrs = ["2001:db8::/129"] }), "criteria.cidrs[0]", "is not a CIDR network"),
        // inet_aton spellings: IPAddress.Parse reads "010.001.002.000" as octal, 8.1.2.0, so a rule would cover another network.
        ["octal-looking octets"] = (Rule("bad", criteria: new() { Cidrs = ["10.0.0.0/8", "010.001.002.000/24"] }), "criteria.cidrs[1]", "is not a CIDR network"),
        ["hex octet"] = (Rule("bad", criteria: new() { Cidrs = ["0x0a.0.0.0/8"] }), "criteria.cidrs[0]", "is not a CIDR network"),
        ["short address"] = (Rule("bad", criteria: new() { Cidrs = ["10.1/16"] }), "criteria.cidrs[0]", "is not a CIDR network"),
        ["bare octal address"] = (Rule("bad", criteria: new() { Cidrs = ["010.0.0.1"] }), "criteria.cidrs[0]", "is not a CIDR network"),
        ["v6 zone"] = (Rule("bad", criteria: new() { Cidrs = ["fe80::1%eth0/64"] }), "criteria.cidrs[0]", "is not a CIDR network"),
        ["prefix with a sign"] = (Rule("bad", criteria: new() { Cidrs = ["10.0.0.0/+8"] }), "criteria.cidrs[0]", "is not a CIDR network"),
        ["bad port range"] = (Rule("bad", criteria: new() { Ports = ["443", "9000-8000"] }), "criteria.ports[1]", "'9000-8000' is not a port or port range"),
        ["port zero"] = (Rule("bad", criteria: new() { Ports = ["0"] }), "criteria.ports[0]", "is not a port"),
        ["bad day"] = (Rule("bad", criteria: new() { Schedule = new(["mon", "funday"], "08:00", "18:00") }), "criteria.schedule.days[1]", "'funday' is not a day"),
        ["bad time"] = (Rule("bad", criteria: new() { Schedule = new(["mon"], "8am", "18:00") }), "criteria.schedule.from", "HH:mm"),
        ["window ends before it starts"] = (Rule("bad", criteria: new() { Schedule = new(["mon"], "18:00", "08:00") }), "criteria.schedule.to", "must end after it starts"),
        ["bad time zone"] = (Rule("bad", criteria: new() { Schedule = new(["mon"], "08:00", "18:00", "Mars/Olympus") }), "criteria.schedule.timeZone", "'Mars/Olympus' is not a known IANA time zone"),
        ["bad domain"] = (Rule("bad", criteria: new() { Domains = ["exa mple.com"] }), "criteria.domains[0]", "is not a domain name"),
        ["wildcard in the middle"] = (Rule("bad", criteria: new() { Domains = ["www.*.example.com"] }), "criteria.domains[0]", "is not a domain name"),
        ["ip as domain"] = (Rule("bad", criteria: new() { Domains = ["10.0.0.1"] }), "criteria.domains[0]", "is not a domain name"),
        ["unknown action"] = (Rule("bad", action: "deny"), "action", "unknown action 'deny'"),
        ["unknown inspect flag"] = (Rule("bad", inspect: ["dlp", "xray"]), "inspect[1]", "unknown inspection flag 'xray'"),
        ["unknown network"] = (Rule("bad", criteria: new() { Networks = ["home"] }), "criteria.networks[0]", "unknown network kind 'home'"),
        ["unknown protocol"] = (Rule("bad", criteria: new() { Protocols = ["icmp"] }), "criteria.protocols[0]", "unknown protocol 'icmp'"),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void Bad_rule_is_refused_with_its_index_name_field_and_reason(string name)
    {
        var (rule, field, reason) = Cases[name];

        var result = PolicyCompiler.Compile(Source(Rule("fine", PolicyActions.Allow, new() { Domains = ["example.com"] }), rule));

        Assert.False(result.Succeeded);
        Assert.Null(result.Policy);
        var error = result.Error!;
        Assert.Equal(1, error.RuleIndex);
        Assert.Equal("bad", error.RuleName);
        Assert.Equal(field, error.Field);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.StartsWith($"rule 1 'bad': {field}: ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_category_domain_names_the_category_and_position()
    {
        var categories = new Dictionary<string, IReadOnlyList<string>> { ["news"] = ["news.example", "bad domain"] };

        var result = PolicyCompiler.Compile(new PolicySource([], categories, [], []));

        Assert.Equal(-1, result.Error!.RuleIndex);
        Assert.Equal("categories.news[1]", result.Error.Field);
    }

    [Fact]
    public void Bad_app_segment_port_names_the_segment()
    {
        var segments = new[] { new AppSegmentSource("crm", ["crm.corp"], [], ["70000"]) };

        var result = PolicyCompiler.Compile(new PolicySource([], Categories, segments, []));

        Assert.Equal("appSegments[0].ports[0]", result.Error!.Field);
    }

    [Fact]
    public void Compiling_twice_gives_the_same_decisions()
    {
        var source = Source(Rule("a", criteria: new() { Domains = ["*.example.com"], Ports = ["443"] }), Rule("b", PolicyActions.Caution));

        var first = PolicyCompiler.Compile(source).Policy!;
        var second = PolicyCompiler.Compile(source).Policy!;

        Assert.Equal(first.Decide(Flow()), second.Decide(Flow()));
        Assert.Equal(first.IndexBytes, second.IndexBytes);
    }
}
