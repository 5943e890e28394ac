using System.Globalization;
using System.Net;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Bench.Policy;

/// <summary>
/// A deterministic tenant: 100,000 rules (domain, category, CIDR, group and port criteria, some
/// with schedules) and 1,000,000 domains in 64 URL categories, plus the flows the benchmarks decide.
/// </summary>
internal static class PolicyWorkload
{
    public const int Rules = 100_000;
    public const int CategorisedDomains = 1_000_000;
    public const int Categories = 64;
    public const int DeepRule = 99_000;
    public const int DeepCidrRule = 97_003;

    private static readonly string[] Tlds = ["com", "net", "org", "io", "de", "fr", "co.uk", "info"];

    public static PolicySource Source()
    {
        var random = new Random(1);
        var categories = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var lists = new List<string>[Categories];
        for (var c = 0; c < Categories; c++)
        {
            lists[c] = new List<string>(CategorisedDomains / Categories + 1);
            categories[$"category-{c:D2}"] = lists[c];
        }

        for (var d = 0; d < CategorisedDomains; d++)
        {
            lists[random.Next(Categories)].Add($"site{d}.{Label(random)}.{Tlds[random.Next(Tlds.Length)]}");
        }

        var rules = new PolicyRuleSpec[Rules];
        for (var i = 0; i < Rules; i++)
        {
            rules[i] = i switch
            {
                DeepRule => Rule(i, PolicyActions.Block, new() { Domains = ["deep.target.example"] }),
                DeepCidrRule => Rule(i, PolicyActions.Block, new() { Cidrs = ["172.16.99.0/24"], Ports = ["443"] }),
                _ => (i % 10) switch
                {
                    0 or 1 or 2 => Rule(i, PolicyActions.Block, new() { Domains = [$"r{i}.{Label(random)}.com", $"*.w{i}.{Label(random)}.net"] }),
                    3 or 4 => Rule(i, PolicyActions.Caution, new() { Categories = [$"category-{random.Next(Categories):D2}"], Groups = [$"group-{random.Next(1, 200)}"] }),
                    5 or 6 => Rule(i, PolicyActions.Allow, new() { Cidrs = [$"10.{random.Next(256)}.{random.Next(256)}.0/24", $"2001:db8:{random.Next(65536):x}::/48"], Ports = [$"{random.Next(1, 60000)}"] }),
                    7 => Rule(i, PolicyActions.Allow, new() { Groups = [$"group-{random.Next(1, 200)}"], Ports = ["443", "8000-8080"] }),
                    8 => Rule(i, PolicyActions.Block, new() { Ports = [$"{random.Next(1, 60000)}"], Protocols = ["udp"] }),
                    _ => Rule(i, PolicyActions.Allow, new()
                    {
                        Groups = [$"group-{random.Next(1, 200)}"],
                        Schedule = new(["mon", "tue", "wed", "thu", "fri"], "08:00", "18:00", "Europe/Paris"),
                    }),
                },
            };
        }

        // One category rule that the category flow reaches (its group is the user's).
        rules[Rules - 2] = Rule(Rules - 2, PolicyActions.Block, new() { Categories = ["category-07"] });
        var users = new[] { new PolicyUser("u-1", "user@bench.example", ["group-0", "everyone"]) };
        return new PolicySource(rules, categories, [], users);
    }

    public static FlowContext Flow(string? host, string? ip = null) => new()
    {
        UserId = "u-1",
        Host = host,
        Ip = ip is null ? null : IPAddress.Parse(ip),
        Port = 443,
        Protocol = FlowProtocol.Https,
        Network = NetworkKind.Untrusted,
        Time = new DateTimeOffset(2026, 3, 4, 12, 0, 0, TimeSpan.Zero),
    };

    private static PolicyRuleSpec Rule(int index, string action, PolicyCriteria criteria) =>
        new() { Name = $"rule-{index.ToString(CultureInfo.InvariantCulture)}", Action = action, Criteria = criteria };

    private static string Label(Random random)
    {
        Span<char> label = stackalloc char[6 + random.Next(6)];
        for (var i = 0; i < label.Length; i++)
        {
            label[i] = (char)('a' + random.Next(26));
        }

        return new string(label);
    }
}
