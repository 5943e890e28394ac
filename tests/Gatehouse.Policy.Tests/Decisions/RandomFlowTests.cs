using System.Net;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Policy.Tests.Decisions;

/// <summary>The test that proves the indexes right: random rules and flows, compiled against the plain reference.</summary>
public sealed class RandomFlowTests
{
    private static readonly string[] Hosts = ["example.com", "www.example.com", "a.b.example.com", "example.org", "www.example.org", "casino.example", "www.casino.example", "eu.poker.example", "poker.example", "news.example", "sports.news.example", "crm.corp", "eng.wiki.corp", "wiki.corp", "WWW.Example.COM.", "unknown.test"];
    private static readonly string[] DomainPatterns = ["example.com", "*.example.com", "www.example.com", "example.org", "*.example.org", "*.b.example.com", "casino.example", "*.corp", "crm.corp"];
    private static readonly string[] Ips = ["10.0.0.1", "10.1.2.3", "10.1.200.9", "192.168.1.1", "10.20.5.5", "10.30.0.9", "203.0.113.7", "2001:db8::1", "2001:db8:1::1", "fd00::7", "::ffff:10.1.2.3", "2001:dba::1"];
    private static readonly string[] Cidrs = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "192.168.0.0/16", "0.0.0.0/0", "2001:db8::/32", "2001:db8:1::/48", "::/0", "fd00::/8"];
    private static readonly string[] Ports = ["22", "53", "80", "443", "8000-8080", "1-1024", "440-450", "5432"];
    private static readonly int[] FlowPorts = [22, 53, 80, 443, 445, 1024, 1025, 5432, 6005, 8000, 8080, 8443];
    private static readonly string[] Groups = ["finance", "engineering", "everyone", "contractors"];
    private static readonly string[] Emails = ["alice@corp.example", "bob@corp.example", "carol@corp.example"];
    private static readonly string[] PostureChecks = ["disk-encrypted", "os:linux", "os:windows", "firewall"];
    private static readonly PolicySchedule[] Schedules =
    [
        new(["mon", "tue", "wed", "thu", "fri"], "08:00", "18:00", "Europe/Paris"),
        new(["sat", "sun"], "00:00", "23:59"),
        new(["wed"], "10:00", "14:00", "America/New_York"),
        new(["fri", "sat"], "20:00", "23:00", "Asia/Tokyo"),
    ];

    [Fact]
    public void Compiled_decide_equals_the_reference_on_10000_random_flows_over_500_random_rules()
    {
        var random = new Random(20260304);
        var source = RandomSource(random, 500);
        var compiled = PolicyCompiler.Compile(source);
        Assert.True(compiled.Succeeded, compiled.Error?.ToString());
        var policy = compiled.Policy!;

        var matchedRules = new HashSet<int>();
        for (var i = 0; i < 10_000; i++)
        {
            var flow = RandomFlow(random);
            var expected = ReferenceEvaluator.Evaluate(source, flow);

            var decision = policy.Decide(flow);

            Assert.True(expected == decision.RuleIndex, $"flow {i}: reference says rule {expected}, compiled says {decision.RuleIndex}: {flow}");
            matchedRules.Add(decision.RuleIndex);
        }

        // The test means something only if flows land on many different rules, deep ones included, and on the default.
        Assert.Contains(-1, matchedRules);
        Assert.True(matchedRules.Count > 100, $"only {matchedRules.Count} distinct outcomes");
        Assert.True(matchedRules.Max() > 250, $"deepest match {matchedRules.Max()}");
    }

    [Fact]
    public void Explain_agrees_with_decide_on_random_flows()
    {
        var random = new Random(7);
        var policy = PolicyCompiler.Compile(RandomSource(random, 500)).Policy!;

        for (var i = 0; i < 2_000; i++)
        {
            var flow = RandomFlow(random);

            var decision = policy.Decide(flow);
            var explanation = policy.Explain(flow);

            Assert.Equal(decision, explanation.Decision);
            if (decision.RuleIndex >= 0)
            {
                Assert.Equal(decision.RuleIndex + 1, explanation.Rules.Count);
                Assert.True(explanation.Rules[^1].Matched);
                Assert.All(explanation.Rules.Take(decision.RuleIndex), t => Assert.False(t.Matched));
                Assert.All(explanation.Rules.Take(decision.RuleIndex), t => Assert.False(string.IsNullOrEmpty(t.Reason)));
            }
        }
    }

    private static PolicySource RandomSource(Random random, int count)
    {
        var rules = new PolicyRuleSpec[count];
        for (var i = 0; i < count; i++)
        {
            // Two to four criteria each, so that a rule matches a few percent of flows and flows reach deep into the list.
            var chosen = new HashSet<int>();
            var wanted = 2 + random.Next(3);
            while (chosen.Count < wanted)
            {
                chosen.Add(random.Next(11));
            }

            rules[i] = new PolicyRuleSpec
            {
                Name = $"rule-{i}",
                Action = PolicyActions.All[random.Next(3)],
                Enabled = random.NextDouble() > 0.05,
                Inspect = random.NextDouble() < 0.3 ? [InspectionFlags.All[random.Next(4)]] : null,
                Criteria = new PolicyCriteria
                {
                    Users = Pick(random, chosen.Contains(0), Emails),
                    Groups = Pick(random, chosen.Contains(1), Groups),
                    Posture = Pick(random, chosen.Contains(2), PostureChecks),
                    Networks = Pick(random, chosen.Contains(3), NetworkKinds.All),
                    Schedule = chosen.Contains(4) ? Schedules[random.Next(Schedules.Length)] : null,
                    Domains = Pick(random, chosen.Contains(5), DomainPatterns),
                    Categories = Pick(random, chosen.Contains(6), ["gambling", "news", "sports"]),
                    Cidrs = Pick(random, chosen.Contains(7), Cidrs),
                    Ports = Pick(random, chosen.Contains(8), Ports),
                    Protocols = Pick(random, chosen.Contains(9), PolicyProtocols.All),
                    AppSegments = Pick(random, chosen.Contains(10), ["crm", "wiki", "db"]),
                },
            };
        }

        return Policies.Source(rules);
    }

    private static string[]? Pick(Random random, bool chosen, IReadOnlyList<string> pool)
    {
        if (!chosen)
        {
            return null;
        }

        var count = 1 + random.Next(2);
        return [.. Enumerable.Range(0, count).Select(_ => pool[random.Next(pool.Count)]).Distinct()];
    }

    private static FlowContext RandomFlow(Random random)
    {
        var hostKind = random.Next(4);
        var ipKind = random.Next(3);
        return new FlowContext
        {
            UserId = random.Next(5) switch { 0 => null, 1 => "u-bob", 2 => "u-eve", _ => "u-alice" },
            UserEmail = random.Next(6) == 0 ? Emails[random.Next(Emails.Length)] : null,
            Groups = random.Next(4) == 0 ? Groups.Where(_ => random.Next(2) == 0).ToArray() : default,
            Posture = PostureChecks.Where(_ => random.Next(2) == 0).ToArray(),
            Network = (NetworkKind)random.Next(4),
            Time = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(7 * 24 * 60)),
            Host = hostKind == 0 ? null : Hosts[random.Next(Hosts.Length)],
            Url = hostKind == 0 && random.Next(2) == 0 ? $"https://{Hosts[random.Next(Hosts.Length)]}/path" : null,
            Ip = ipKind == 0 ? null : IPAddress.Parse(Ips[random.Next(Ips.Length)]),
            Port = FlowPorts[random.Next(FlowPorts.Length)],
            Protocol = (FlowProtocol)random.Next(6),
        };
    }
}
