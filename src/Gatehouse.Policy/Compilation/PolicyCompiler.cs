using System.Diagnostics;
using System.Globalization;
using System.Net;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Explain;
using Gatehouse.Policy.Matching;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Policy.Compilation;

/// <summary>
/// Compiles a <see cref="PolicySource"/> into a <see cref="CompiledPolicy"/>. Deterministic: the
/// same source gives the same indexes in every process. Never throws for bad input; the first
/// error comes back as a value naming the rule (or object) and the reason.
/// </summary>
public static class PolicyCompiler
{
    /// <summary>The most rules a policy may hold (the portal allows 100,000).</summary>
    public const int MaxRules = 1_000_000;

    /// <summary>Compiles <paramref name="source"/>.</summary>
    public static CompileResult Compile(PolicySource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var clock = Stopwatch.StartNew();
        try
        {
            var policy = new Compilation(source).Run();
            return CompileResult.Success(policy, clock.Elapsed);
        }
        catch (CompileFailure failure)
        {
            return CompileResult.Failure(failure.Error, clock.Elapsed);
        }
    }

    /// <summary>Carries the first error out of the nested loops; caught in <see cref="Compile"/> and never escapes.</summary>
    private sealed class CompileFailure(CompileError error) : Exception(error.ToString())
    {
        public CompileError Error { get; } = error;
    }

    private sealed class Compilation(PolicySource source)
    {
        private static readonly string[] ActionNames = [PolicyActions.Allow, PolicyActions.Block, PolicyActions.Caution];
        private static readonly string[] FlagNames = ["log-full-url", "tls-inspect", "dlp", "sandbox"];

        private readonly int ruleCount = source.Rules.Count;
        private readonly Dictionary<string, int> categoryIds = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> segmentIds = new(StringComparer.Ordinal);
        private readonly ValueIds users = new(StringComparer.OrdinalIgnoreCase);
        private readonly ValueIds groups = new(StringComparer.Ordinal);
        private readonly ValueIds posture = new(StringComparer.Ordinal);
        private readonly ValueIds domains = new(StringComparer.Ordinal);
        private readonly ValueIds cidrs = new(StringComparer.Ordinal);
        private readonly ValueIds ports = new(StringComparer.Ordinal);
        private readonly List<(int Low, int High)> portRanges = [];
        private readonly DomainTrie ruleDomains = new();
        private readonly CidrTrie ruleCidrV4 = new();
        private readonly CidrTrie ruleCidrV6 = new();
        private readonly List<CompiledSchedule> schedules = [];
        private int categorisedDomains;

        public CompiledPolicy Run()
        {
            if (ruleCount > MaxRules)
            {
                throw Fail(-1, "rules", $"a policy holds at most {MaxRules} rules; this one has {ruleCount}");
            }

            var (categoryNames, categoryTrie) = CompileCategories();
            var (segmentNames, segmentDomains, segmentV4, segmentV6, segmentPorts, segmentNetworks) = CompileSegments();

            var builders = new RuleBitsets.Builder?[CompiledPolicy.CriterionCount];
            for (var c = 0; c < builders.Length; c++)
            {
                builders[c] = c == (int)PolicyCriterion.Schedule ? null : new RuleBitsets.Builder(ruleCount);
            }

            var names = new string[ruleCount];
            var actions = new PolicyAction[ruleCount];
            var inspect = new InspectFlags[ruleCount];
            var enabled = new bool[ruleCount];
            var words = (ruleCount + 63) >> 6;
            var enabledBits = new ulong[words];
            var ruleSchedule = new int[ruleCount];
            for (var r = 0; r < ruleCount; r++)
            {
                var rule = source.Rules[r] ?? throw Fail(r, "rule", "a rule must not be null");
                names[r] = rule.Name;
                actions[r] = Action(r, rule.Action);
                inspect[r] = Flags(r, rule.Inspect);
                enabled[r] = rule.Enabled;
                if (rule.Enabled)
                {
                    enabledBits[r >> 6] |= 1UL << (r & 63);
                }

                var criteria = rule.Criteria ?? new PolicyCriteria();
                AddAll(builders, PolicyCriterion.Users, r, criteria.Users, (text, field) => users.Id(text.Trim()));
                AddAll(builders, PolicyCriterion.Groups, r, criteria.Groups, (text, field) => groups.Id(text.Trim()));
                AddAll(builders, PolicyCriterion.Posture, r, criteria.Posture, (text, field) => posture.Id(text.Trim()));
                AddAll(builders, PolicyCriterion.Networks, r, criteria.Networks, (text, field) => Known(r, field, text, NetworkKinds.All, "network kind"));
                ruleSchedule[r] = Schedule(r, criteria.Schedule);
                AddAll(builders, PolicyCriterion.Domains, r, criteria.Domains, (text, field) => Domain(r, field, text));
                AddAll(builders, PolicyCriterion.Categories, r, criteria.Categories, (text, field) =>
                    categoryIds.TryGetValue(text, out var id) ? id : throw Fail(r, field, $"no URL category named '{text}'"));
                AddAll(builders, PolicyCriterion.Cidrs, r, criteria.Cidrs, (text, field) => Cidr(r, field, text));
                AddAll(builders, PolicyCriterion.Ports, r, criteria.Ports, (text, field) => Port(r, field, text));
                AddAll(builders, PolicyCriterion.Protocols, r, criteria.Protocols, (text, field) => Known(r, field, text, PolicyProtocols.All, "protocol"));
                AddAll(builders, PolicyCriterion.AppSegments, r, criteria.AppSegments, (text, field) =>
                    segmentIds.TryGetValue(text, out var id) ? id : throw Fail(r, field, $"no app segment named '{text}'"));
                if (criteria.SegmentGroups is { Count: > 0 })
                {
                    // The portal publishes a group as its segments; a group left in a rule would silently match every segment.
                    throw Fail(r, "criteria.segmentGroups", "segment groups must be published as the app segments in them");
                }
            }

            ruleDomains.Freeze();
            ruleCidrV4.Freeze();
            ruleCidrV6.Freeze();
            var portIndex = PortIndex.Build(portRanges);

            var valueCounts = new int[CompiledPolicy.CriterionCount];
            valueCounts[(int)PolicyCriterion.Users] = users.Count;
            valueCounts[(int)PolicyCriterion.Groups] = groups.Count;
            valueCounts[(int)PolicyCriterion.Posture] = posture.Count;
            valueCounts[(int)PolicyCriterion.Networks] = NetworkKinds.All.Count;
            valueCounts[(int)PolicyCriterion.Domains] = domains.Count;
            valueCounts[(int)PolicyCriterion.Categories] = categoryNames.Length;
            valueCounts[(int)PolicyCriterion.Cidrs] = cidrs.Count;
            valueCounts[(int)PolicyCriterion.Ports] = ports.Count;
            valueCounts[(int)PolicyCriterion.Protocols] = PolicyProtocols.All.Count;
            valueCounts[(int)PolicyCriterion.AppSegments] = segmentNames.Length;

            var sets = new RuleBitsets?[CompiledPolicy.CriterionCount];
            var active = new List<int>();
            var anyAll = (ulong[])enabledBits.Clone();
            for (var c = 0; c < sets.Length; c++)
            {
                if (builders[c] is not { } builder)
                {
                    continue;
                }

                var set = sets[c] = builder.Build(valueCounts[c]);
                if (set.Active)
                {
                    active.Add(c);
                    for (var w = 0; w < words; w++)
                    {
                        anyAll[w] &= set.Any[w];
                    }
                }
            }

            var anyAllSummary = new ulong[(words + 63) >> 6];
            for (var w = 0; w < words; w++)
            {
                if (anyAll[w] != 0)
                {
                    anyAllSummary[w >> 6] |= 1UL << (w & 63);
                }
            }

            // Signatures: enabled rules grouped by the set of indexed criteria they use.
            var signatureOf = new Dictionary<int, int>();
            var signatureMasks = new List<int>();
            var signatureBits = new List<ulong[]>();
            for (var r = 0; r < ruleCount; r++)
            {
                var mask = 0;
                foreach (var c in active)
                {
                    if (!sets[c]!.ValuesOf(r).IsEmpty)
                    {
                        mask |= 1 << c;
                    }
                }

                if (mask == 0 || !enabled[r])
                {
                    continue;
                }

                if (!signatureOf.TryGetValue(mask, out var g))
                {
                    g = signatureOf[mask] = signatureMasks.Count;
                    signatureMasks.Add(mask);
                    signatureBits.Add(new ulong[words]);
                }

                signatureBits[g][r >> 6] |= 1UL << (r & 63);
            }

            var (byId, byEmail, maxUserGroups) = CompileUsers();
            var fixedBound = 1 + 1 + ruleDomains.MaxMatches + categoryTrie.MaxMatches + Math.Max(ruleCidrV4.MaxMatches, ruleCidrV6.MaxMatches)
                + portIndex.MaxMatches + 2 + segmentDomains.MaxMatches + Math.Max(segmentV4.MaxMatches, segmentV6.MaxMatches);

            return new CompiledPolicy(source)
            {
                RuleNames = names,
                Actions = actions,
                Inspect = inspect,
                Enabled = enabled,
                EnabledBits = enabledBits,
                RuleSchedule = ruleSchedule,
                Schedules = [.. schedules],
                Criteria = sets,
                ActiveCriteria = [.. active],
                AnyAll = anyAll,
                AnyAllSummary = anyAllSummary,
                SignatureMasks = [.. signatureMasks],
                SignatureBits = [.. signatureBits],
                UserValues = users.Ids,
                GroupValues = groups.Ids,
                PostureValues = posture.Ids,
                UserTexts = users.Texts,
                GroupTexts = groups.Texts,
                PostureTexts = posture.Texts,
                RuleDomains = ruleDomains,
                DomainTexts = domains.Texts,
                CategoryDomains = categoryTrie,
                CategoryNames = categoryNames,
                RuleCidrV4 = ruleCidrV4,
                RuleCidrV6 = ruleCidrV6,
                CidrTexts = cidrs.Texts,
                Ports = portIndex,
                PortTexts = ports.Texts,
                SegmentDomains = segmentDomains,
                SegmentCidrV4 = segmentV4,
                SegmentCidrV6 = segmentV6,
                SegmentPorts = segmentPorts,
                SegmentNames = segmentNames,
                SegmentNetworks = segmentNetworks,
                UsersById = byId,
                UsersByEmail = byEmail,
                MaxUserGroups = maxUserGroups,
                FixedBound = fixedBound,
                CategorisedDomainCount = categorisedDomains,
            };
        }

        private (string[] Names, DomainTrie Trie) CompileCategories()
        {
            var names = new string[source.Categories.Count];
            var i = 0;
            foreach (var name in source.Categories.Keys)
            {
                names[i++] = name;
            }

            Array.Sort(names, StringComparer.Ordinal);
            var trie = new DomainTrie();
            for (var id = 0; id < names.Length; id++)
            {
                categoryIds[names[id]] = id;
                var list = source.Categories[names[id]] ?? [];
                for (var d = 0; d < list.Count; d++)
                {
                    var field = $"categories.{names[id]}[{d}]";
                    var text = list[d];
                    ReadOnlySpan<char> name;
                    var wildcard = false;

                    // Fast path for what the portal publishes (lower case, validated); anything else is normalised.
                    if (text is not null && DomainPattern.IsName(text))
                    {
                        name = text;
                    }
                    else if (DomainPattern.TryParse(text, allowWildcard: true, out var pattern, out wildcard, out var reason))
                    {
                        name = wildcard ? pattern.AsSpan(2) : pattern;
                    }
                    else
                    {
                        throw Fail(-1, field, reason);
                    }

                    // A category domain covers itself and everything below it (squidGuard); "*." only what is below.
                    if (!wildcard)
                    {
                        trie.Add(name, DomainMatch.Exact, id);
                    }

                    trie.Add(name, DomainMatch.Below, id);
                    categorisedDomains++;
                }
            }

            trie.Freeze();
            return (names, trie);
        }

        private (string[] Names, DomainTrie Domains, CidrTrie V4, CidrTrie V6, (int Low, int High)[][] Ports, NetworkPorts[] Networks) CompileSegments()
        {
            var count = source.AppSegments.Count;
            var names = new string[count];
            var networks = new List<NetworkPorts>();
            var segmentPorts = new (int Low, int High)[count][];
            var trie = new DomainTrie();
            var v4 = new CidrTrie();
            var v6 = new CidrTrie();
            Span<byte> bytes = stackalloc byte[16];
            for (var s = 0; s < count; s++)
            {
                var segment = source.AppSegments[s];
                var prefix = $"appSegments[{s}]";
                if (segment is null || string.IsNullOrWhiteSpace(segment.Name))
                {
                    throw Fail(-1, prefix + ".name", "an app segment needs a name");
                }

                if (!segmentIds.TryAdd(segment.Name, s))
                {
                    throw Fail(-1, prefix + ".name", $"the app segment name '{segment.Name}' is used twice");
                }

                names[s] = segment.Name;
                var domainList = segment.Domains ?? [];
                for (var d = 0; d < domainList.Count; d++)
                {
                    if (!DomainPattern.TryParse(domainList[d], allowWildcard: true, out var pattern, out var wildcard, out var reason))
                    {
                        throw Fail(-1, $"{prefix}.domains[{d}]", reason);
                    }

                    trie.Add(wildcard ? pattern.AsSpan(2) : pattern, wildcard ? DomainMatch.Below : DomainMatch.Exact, s);
                }

                var cidrList = segment.Cidrs ?? [];
                var segmentNetworks = new List<IPNetwork>(cidrList.Count);
                for (var c = 0; c < cidrList.Count; c++)
                {
                    if (!CidrText.TryParse(cidrList[c], out var network))
                    {
                        throw Fail(-1, $"{prefix}.cidrs[{c}]", CidrText.Reason(cidrList[c]));
                    }

                    network.BaseAddress.TryWriteBytes(bytes, out var written);
                    (written == 4 ? v4 : v6).Add(bytes[..written], network.PrefixLength, s);
                    segmentNetworks.Add(network);
                }

                var portList = segment.Ports ?? [];
                var ranges = new (int Low, int High)[portList.Count];
                for (var p = 0; p < portList.Count; p++)
                {
                    if (!PortRange.TryParse(portList[p], out var low, out var high))
                    {
                        throw Fail(-1, $"{prefix}.ports[{p}]", PortRange.Reason(portList[p]));
                    }

                    ranges[p] = (low, high);
                }

                segmentPorts[s] = ranges;
                networks.AddRange(segmentNetworks.Select(network => new NetworkPorts(network, ranges)));
            }

            trie.Freeze();
            v4.Freeze();
            v6.Freeze();
            return (names, trie, v4, v6, segmentPorts, [.. networks]);
        }

        private (Dictionary<string, CompiledUser> ById, Dictionary<string, CompiledUser> ByEmail, int MaxGroups) CompileUsers()
        {
            var byId = new Dictionary<string, CompiledUser>(StringComparer.Ordinal);
            var byEmail = new Dictionary<string, CompiledUser>(StringComparer.OrdinalIgnoreCase);
            var maxGroups = 0;
            for (var u = 0; u < source.Users.Count; u++)
            {
                var user = source.Users[u];
                if (user is null || string.IsNullOrEmpty(user.Id) || string.IsNullOrEmpty(user.Email))
                {
                    throw Fail(-1, $"users[{u}]", "a user needs an id and an email");
                }

                var names = user.Groups ?? [];
                var values = new List<int>(names.Count);
                foreach (var name in names)
                {
                    if (name is not null && groups.Ids.TryGetValue(name, out var value) && !values.Contains(value))
                    {
                        values.Add(value);
                    }
                }

                var compiled = new CompiledUser(user.Email, user.Disabled, [.. values], names);
                if (!byId.TryAdd(user.Id, compiled))
                {
                    throw Fail(-1, $"users[{u}].id", $"the user id '{user.Id}' is used twice");
                }

                byEmail.TryAdd(user.Email, compiled);
                maxGroups = Math.Max(maxGroups, values.Count);
            }

            return (byId, byEmail, maxGroups);
        }

        private void AddAll(RuleBitsets.Builder?[] builders, PolicyCriterion criterion, int rule, IReadOnlyList<string>? texts, Func<string, string, int> valueOf)
        {
            if (texts is null)
            {
                return;
            }

            var builder = builders[(int)criterion]!;
            var field = "criteria." + char.ToLowerInvariant(criterion.ToString()[0]) + criterion.ToString()[1..];
            Span<int> seen = stackalloc int[Math.Min(texts.Count, 64)];
            var seenCount = 0;
            for (var i = 0; i < texts.Count; i++)
            {
                var itemField = $"{field}[{i}]";
                var text = texts[i];
                if (string.IsNullOrWhiteSpace(text))
                {
                    throw Fail(rule, itemField, "must not be empty");
                }

                var value = valueOf(text, itemField);
                if (seen[..seenCount].Contains(value))
                {
                    continue;
                }

                if (seenCount < seen.Length)
                {
                    seen[seenCount++] = value;
                }

                builder.Add(rule, value);
            }
        }

        private int Schedule(int rule, PolicySchedule? schedule)
        {
            if (schedule is null)
            {
                return -1;
            }

            var compiled = CompiledSchedule.TryCompile(schedule, out var field, out var reason) ?? throw Fail(rule, field, reason);
            schedules.Add(compiled);
            return schedules.Count - 1;
        }

        private int Domain(int rule, string field, string text)
        {
            if (!DomainPattern.TryParse(text, allowWildcard: true, out var pattern, out var wildcard, out var reason))
            {
                throw Fail(rule, field, reason);
            }

            var (id, added) = domains.Add(pattern);
            if (added)
            {
                ruleDomains.Add(wildcard ? pattern.AsSpan(2) : pattern, wildcard ? DomainMatch.Below : DomainMatch.Exact, id);
            }

            return id;
        }

        private int Cidr(int rule, string field, string text)
        {
            if (!CidrText.TryParse(text, out var network))
            {
                throw Fail(rule, field, CidrText.Reason(text));
            }

            var (id, added) = cidrs.Add(network.ToString());
            if (added)
            {
                Span<byte> bytes = stackalloc byte[16];
                network.BaseAddress.TryWriteBytes(bytes, out var written);
                (written == 4 ? ruleCidrV4 : ruleCidrV6).Add(bytes[..written], network.PrefixLength, id);
            }

            return id;
        }

        private int Port(int rule, string field, string text)
        {
            if (!PortRange.TryParse(text, out var low, out var high))
            {
                throw Fail(rule, field, PortRange.Reason(text));
            }

            var (id, added) = ports.Add(low == high ? low.ToString(CultureInfo.InvariantCulture) : $"{low}-{high}");
            if (added)
            {
                portRanges.Add((low, high));
            }

            return id;
        }

        private int Known(int rule, string field, string text, IReadOnlyList<string> allowed, string what)
        {
            for (var i = 0; i < allowed.Count; i++)
            {
                if (string.Equals(allowed[i], text.Trim(), StringComparison.OrdinalIgnoreCase))
                {
                    return i;
                }
            }

            throw Fail(rule, field, $"unknown {what} '{text}' (one of {string.Join(", ", allowed)})");
        }

        private PolicyAction Action(int rule, string? action)
        {
            var index = Array.IndexOf(ActionNames, action?.Trim().ToLowerInvariant());
            return index >= 0 ? (PolicyAction)index : throw Fail(rule, "action", $"unknown action '{action}' (one of {string.Join(", ", ActionNames)})");
        }

        private InspectFlags Flags(int rule, IReadOnlyList<string>? flags)
        {
            var result = InspectFlags.None;
            for (var i = 0; i < (flags?.Count ?? 0); i++)
            {
                var index = Array.IndexOf(FlagNames, flags![i]?.Trim().ToLowerInvariant());
                if (index < 0)
                {
                    throw Fail(rule, $"inspect[{i}]", $"unknown inspection flag '{flags[i]}' (one of {string.Join(", ", FlagNames)})");
                }

                result |= (InspectFlags)(1 << index);
            }

            return result;
        }

        private CompileFailure Fail(int rule, string field, string reason) =>
            new(new CompileError(rule, rule >= 0 && rule < ruleCount ? source.Rules[rule]?.Name : null, field, reason));
    }

    /// <summary>Numbers the distinct values of one criterion in order of first appearance.</summary>
    private sealed class ValueIds(StringComparer comparer)
    {
        private readonly List<string> texts = [];

        public Dictionary<string, int> Ids { get; } = new(comparer);

        public int Count => texts.Count;

        public string[] Texts => [.. texts];

        public int Id(string text) => Add(text).Id;

        public (int Id, bool Added) Add(string text)
        {
            if (Ids.TryGetValue(text, out var id))
            {
                return (id, false);
            }

            id = texts.Count;
            Ids[text] = id;
            texts.Add(text);
            return (id, true);
        }
    }
}
