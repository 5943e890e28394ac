using System.Buffers;
using System.Net.Sockets;
using System.Numerics;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Explain;
using Gatehouse.Policy.Matching;
using Gatehouse.Policy.Sources;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Policy.Decisions;

/// <summary>
/// A policy compiled into indexes; immutable and safe to share between threads. Build one with
/// <see cref="PolicyCompiler.Compile"/>; swap policies with <see cref="PolicyHolder"/>.
/// </summary>
/// <remarks>
/// <code>
/// Decide(flow)
///   host → lower case (stack) ──► domain trie ──► domain values ─┐
///                             └─► category trie ─► category ids ─┤   per criterion c:
///   ip ───► CIDR trie (v4/v6) ─────────────────► cidr values ───┤   cand_c = any_c ∪ rules(values_c)
///   port ─► port intervals ────────────────────► port values ───┤
///   user/groups/posture/network/protocol ──────► values ────────┤   result = enabled ∩ cand_c ∩ …
///   host/ip + port ─► segment tries ───────────► segments ──────┘
///   walk only the words that can be non-zero (a summary bitmap), lowest bit first,
///   first rule whose schedule also holds wins; none: allow (rule -1).
/// </code>
/// </remarks>
public sealed partial class CompiledPolicy
{
    internal const int CriterionCount = 11;
    private const int StackValues = 512;
    private const int MaxHost = 253;

    internal CompiledPolicy(PolicySource source) => Source = source;

    /// <summary>The source this policy was compiled from.</summary>
    public PolicySource Source { get; }

    /// <summary>The number of rules (disabled ones included).</summary>
    public int RuleCount => RuleNames.Length;

    /// <summary>The number of categorised domains indexed.</summary>
    public int CategorisedDomainCount { get; internal set; }

    /// <summary>Approximate bytes held by the indexes (the managed total is measured by the benchmark).</summary>
    public long IndexBytes
    {
        get
        {
            long bytes = RuleDomains.Bytes + CategoryDomains.Bytes + RuleCidrV4.Bytes + RuleCidrV6.Bytes + SegmentDomains.Bytes + SegmentCidrV4.Bytes + SegmentCidrV6.Bytes;
            foreach (var criterion in Criteria)
            {
                bytes += criterion?.Bytes ?? 0;
            }

            return bytes;
        }
    }

    internal string[] RuleNames { get; init; } = [];

    internal PolicyAction[] Actions { get; init; } = [];

    internal InspectFlags[] Inspect { get; init; } = [];

    internal bool[] Enabled { get; init; } = [];

    internal ulong[] EnabledBits { get; init; } = [];

    internal int[] RuleSchedule { get; init; } = [];

    internal CompiledSchedule[] Schedules { get; init; } = [];

    /// <summary>Indexed by <see cref="PolicyCriterion"/>; null for <see cref="PolicyCriterion.Schedule"/>, which is checked per candidate rule.</summary>
    internal RuleBitsets?[] Criteria { get; init; } = new RuleBitsets?[CriterionCount];

    internal int[] ActiveCriteria { get; init; } = [];

    /// <summary>Enabled rules that use no indexed criterion that is in use.</summary>
    internal ulong[] AnyAll { get; init; } = [];

    internal ulong[] AnyAllSummary { get; init; } = [];

    /// <summary>Each signature's set of indexed criteria (bit c for criterion c).</summary>
    internal int[] SignatureMasks { get; init; } = [];

    /// <summary>Each signature's enabled rules (dense, one bit per rule).</summary>
    internal ulong[][] SignatureBits { get; init; } = [];

    internal Dictionary<string, int> UserValues { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    internal Dictionary<string, int> GroupValues { get; init; } = new(StringComparer.Ordinal);

    internal Dictionary<string, int> PostureValues { get; init; } = new(StringComparer.Ordinal);

    internal string[] UserTexts { get; init; } = [];

    internal string[] GroupTexts { get; init; } = [];

    internal string[] PostureTexts { get; init; } = [];

    internal DomainTrie RuleDomains { get; init; } = new();

    internal string[] DomainTexts { get; init; } = [];

    internal DomainTrie CategoryDomains { get; init; } = new();

    internal string[] CategoryNames { get; init; } = [];

    internal CidrTrie RuleCidrV4 { get; init; } = new();

    internal CidrTrie RuleCidrV6 { get; init; } = new();

    internal string[] CidrTexts { get; init; } = [];

    internal PortIndex Ports { get; init; } = PortIndex.Build([]);

    internal string[] PortTexts { get; init; } = [];

    internal DomainTrie SegmentDomains { get; init; } = new();

    internal CidrTrie SegmentCidrV4 { get; init; } = new();

    internal CidrTrie SegmentCidrV6 { get; init; } = new();

    internal (int Low, int High)[][] SegmentPorts { get; init; } = [];

    internal string[] SegmentNames { get; init; } = [];

    /// <summary>The networks of the app segments with each segment's ports, in the order they are given.</summary>
    public IReadOnlyList<NetworkPorts> SegmentNetworks { get; init; } = [];

    internal Dictionary<string, CompiledUser> UsersById { get; init; } = new(StringComparer.Ordinal);

    internal Dictionary<string, CompiledUser> UsersByEmail { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    internal int MaxUserGroups { get; init; }

    /// <summary>Values one flow can match, apart from its own group and posture lists.</summary>
    internal int FixedBound { get; init; }

    private int Words => EnabledBits.Length;

    /// <summary>
    /// Decides one flow: the first enabled rule (in order) whose every criterion matches, or allow
    /// with rule index -1 when none does; block with rule index -2 when the flow's user is disabled.
    /// Allocates nothing.
    /// </summary>
    public Decision Decide(in FlowContext flow)
    {
        Span<char> hostBuffer = stackalloc char[MaxHost];
        var host = NormaliseHost(flow, hostBuffer);
        Span<byte> ipBuffer = stackalloc byte[16];
        var ip = IpBytes(flow, ipBuffer);
        var user = FindUser(flow);
        if (user is { Disabled: true })
        {
            return new Decision(PolicyAction.Block, Decision.UserDisabledIndex, null, InspectFlags.None, null);
        }

        var bound = Bound(flow);
        int[]? rentedValues = null;
        Span<int> values = bound <= StackValues ? stackalloc int[StackValues] : (rentedValues = ArrayPool<int>.Shared.Rent(bound));
        Span<int> start = stackalloc int[CriterionCount + 1];
        Collect(flow, host, ip, user, values, start);

        var rule = FirstMatch(flow, values, start);
        var decision = DecisionFor(rule, values[start[(int)PolicyCriterion.Categories]..start[(int)PolicyCriterion.Categories + 1]]);
        if (rentedValues is not null)
        {
            ArrayPool<int>.Shared.Return(rentedValues);
        }

        return decision;
    }

    /// <summary>
    /// The app segment a flow's destination belongs to, or null for the internet: of the segments whose ports
    /// admit the flow's port, the one with the most specific domain (an exact name before a wildcard, a longer
    /// suffix before a shorter one), else the one with the longest network prefix.
    /// </summary>
    public string? AppSegmentOf(in FlowContext flow)
    {
        Span<char> hostBuffer = stackalloc char[MaxHost];
        var host = NormaliseHost(flow, hostBuffer);
        Span<byte> ipBuffer = stackalloc byte[16];
        var ip = IpBytes(flow, ipBuffer);
        var bound = Math.Max(SegmentDomains.MaxMatches, Math.Max(SegmentCidrV4.MaxMatches, SegmentCidrV6.MaxMatches));
        int[]? rented = null;
        Span<int> matches = bound <= StackValues ? stackalloc int[StackValues] : (rented = ArrayPool<int>.Shared.Rent(bound));
        try
        {
            // Both tries write the least specific match first.
            if (!host.IsEmpty && MostSpecific(matches[..SegmentDomains.Match(host, matches)], flow.Port) is { } byName)
            {
                return SegmentNames[byName];
            }

            var count = ip.Length switch
            {
                4 => SegmentCidrV4.Match(ip, matches),
                16 => SegmentCidrV6.Match(ip, matches),
                _ => 0,
            };
            return MostSpecific(matches[..count], flow.Port) is { } byAddress ? SegmentNames[byAddress] : null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    private int? MostSpecific(ReadOnlySpan<int> segments, int port)
    {
        for (var i = segments.Length - 1; i >= 0; i--)
        {
            if (SegmentAdmits(segments[i], port))
            {
                return segments[i];
            }
        }

        return null;
    }

    /// <summary>
    /// The first enabled rule that matches. Rules are grouped by signature (the set of indexed
    /// criteria they use); a signature can match only if the flow matched some value of each of its
    /// criteria. Within a signature, the criterion whose matched values have the fewest rule chunks
    /// drives: its chunks are walked in rule order and ANDed with the signature's rules and the
    /// other criteria's words, so the work follows the most selective criterion, not the rule count.
    /// </summary>
    private int FirstMatch(in FlowContext flow, ReadOnlySpan<int> values, ReadOnlySpan<int> start)
    {
        var best = int.MaxValue;

        // Rules that use no indexed criterion (only a schedule, or nothing at all).
        for (var s = 0; s < AnyAllSummary.Length && best == int.MaxValue; s++)
        {
            var pending = AnyAllSummary[s];
            while (pending != 0 && best == int.MaxValue)
            {
                var w = (s << 6) + BitOperations.TrailingZeroCount(pending);
                pending &= pending - 1;
                best = FirstPassing(flow, AnyAll[w], w, best);
            }
        }

        var criteria = Criteria;
        Span<int> weight = stackalloc int[CriterionCount];
        var hit = 0;
        foreach (var c in ActiveCriteria)
        {
            var set = criteria[c]!;
            var total = 0;
            for (var k = start[c]; k < start[c + 1]; k++)
            {
                total += set.ValueChunkStart[values[k] + 1] - set.ValueChunkStart[values[k]];
            }

            if (total > 0)
            {
                hit |= 1 << c;
                weight[c] = total;
            }
        }

        var masks = SignatureMasks;
        for (var g = 0; g < masks.Length; g++)
        {
            var mask = masks[g];
            if ((mask & ~hit) != 0)
            {
                continue;
            }

            var driver = -1;
            for (var rest = mask; rest != 0; rest &= rest - 1)
            {
                var c = BitOperations.TrailingZeroCount(rest);
                if (driver < 0 || weight[c] < weight[driver])
                {
                    driver = c;
                }
            }

            var others = mask & ~(1 << driver);
            var signature = SignatureBits[g];
            var set = criteria[driver]!;
            for (var k = start[driver]; k < start[driver + 1]; k++)
            {
                var value = values[k];
                for (var i = set.ValueChunkStart[value]; i < set.ValueChunkStart[value + 1]; i++)
                {
                    var w = set.ChunkWord[i];
                    if ((long)w << 6 > best)
                    {
                        break;
                    }

                    var x = set.ChunkBits[i] & signature[w];
                    for (var rest = others; rest != 0 && x != 0; rest &= rest - 1)
                    {
                        var c = BitOperations.TrailingZeroCount(rest);
                        x &= WordOf(criteria[c]!, values[start[c]..start[c + 1]], w);
                    }

                    var found = FirstPassing(flow, x, w, best);
                    if (found < best)
                    {
                        best = found;
                        break;
                    }
                }
            }
        }

        return best == int.MaxValue ? -1 : best;
    }

    /// <summary>The lowest rule in <paramref name="bits"/> (word <paramref name="w"/>) below <paramref name="best"/> whose schedule holds, else <paramref name="best"/>.</summary>
    private int FirstPassing(in FlowContext flow, ulong bits, int w, int best)
    {
        while (bits != 0)
        {
            var rule = (w << 6) + BitOperations.TrailingZeroCount(bits);
            if (rule >= best)
            {
                return best;
            }

            bits &= bits - 1;
            var schedule = RuleSchedule[rule];
            if (schedule < 0 || Schedules[schedule].Contains(flow.Time))
            {
                return rule;
            }
        }

        return best;
    }

    /// <summary>The rules of word <paramref name="w"/> that name one of <paramref name="matched"/> (binary search in each value's chunks).</summary>
    private static ulong WordOf(RuleBitsets set, ReadOnlySpan<int> matched, int w)
    {
        var x = 0UL;
        foreach (var value in matched)
        {
            var index = set.ChunkWord.AsSpan(set.ValueChunkStart[value], set.ValueChunkStart[value + 1] - set.ValueChunkStart[value]).BinarySearch(w);
            if (index >= 0)
            {
                x |= set.ChunkBits[set.ValueChunkStart[value] + index];
            }
        }

        return x;
    }

    private Decision DecisionFor(int rule, ReadOnlySpan<int> categories)
    {
        if (rule < 0)
        {
            return new Decision(PolicyAction.Allow, Decision.NoRuleIndex, null, InspectFlags.None, categories.Length == 0 ? null : CategoryNames[categories[^1]]);
        }

        return new Decision(Actions[rule], rule, RuleNames[rule], Inspect[rule], CategoryOf(rule, categories));
    }

    // The most specific category of the destination; when the rule names categories, the most specific of those.
    private string? CategoryOf(int rule, ReadOnlySpan<int> categories)
    {
        if (categories.Length == 0)
        {
            return null;
        }

        var named = Criteria[(int)PolicyCriterion.Categories]!.ValuesOf(rule);
        if (named.Length == 0)
        {
            return CategoryNames[categories[^1]];
        }

        for (var i = categories.Length - 1; i >= 0; i--)
        {
            if (named.Contains(categories[i]))
            {
                return CategoryNames[categories[i]];
            }
        }

        return null;
    }

    /// <summary>Whether the user with this id is in the policy's directory and disabled (every flow of theirs is blocked).</summary>
    public bool IsUserDisabled(string userId) => UsersById.TryGetValue(userId, out var user) && user.Disabled;

    private CompiledUser? FindUser(in FlowContext flow)
    {
        if (flow.UserId is { } id && UsersById.TryGetValue(id, out var byId))
        {
            return byId;
        }

        return flow.UserEmail is { } email && UsersByEmail.TryGetValue(email, out var byEmail) ? byEmail : null;
    }

    private int Bound(in FlowContext flow) => FixedBound + flow.Posture.Length + Math.Max(flow.Groups.Length, MaxUserGroups);

    /// <summary>Fills <paramref name="values"/> with the values the flow matches, criterion by criterion; <c>start[c]</c> is where criterion c begins.</summary>
    private void Collect(in FlowContext flow, ReadOnlySpan<char> host, ReadOnlySpan<byte> ip, CompiledUser? user, Span<int> values, Span<int> start)
    {
        var n = 0;

        start[(int)PolicyCriterion.Users] = n;
        var email = flow.UserEmail ?? user?.Email;
        if (email is not null && UserValues.TryGetValue(email, out var userValue))
        {
            values[n++] = userValue;
        }

        start[(int)PolicyCriterion.Groups] = n;
        if (flow.Groups.Length > 0)
        {
            foreach (var group in flow.Groups.Span)
            {
                if (group is not null && GroupValues.TryGetValue(group, out var value))
                {
                    values[n++] = value;
                }
            }
        }
        else if (user is not null)
        {
            user.GroupValues.CopyTo(values[n..]);
            n += user.GroupValues.Length;
        }

        start[(int)PolicyCriterion.Posture] = n;
        foreach (var check in flow.Posture.Span)
        {
            if (check is not null && PostureValues.TryGetValue(check, out var value))
            {
                values[n++] = value;
            }
        }

        start[(int)PolicyCriterion.Networks] = n;
        if (flow.Network != NetworkKind.Unknown)
        {
            values[n++] = (int)flow.Network - 1;
        }

        start[(int)PolicyCriterion.Schedule] = n;
        start[(int)PolicyCriterion.Domains] = n;
        if (!host.IsEmpty)
        {
            n += RuleDomains.Match(host, values[n..]);
        }

        start[(int)PolicyCriterion.Categories] = n;
        if (!host.IsEmpty)
        {
            n += CategoryDomains.Match(host, values[n..]);
        }

        start[(int)PolicyCriterion.Cidrs] = n;
        if (ip.Length == 4)
        {
            n += RuleCidrV4.Match(ip, values[n..]);
        }
        else if (ip.Length == 16)
        {
            n += RuleCidrV6.Match(ip, values[n..]);
        }

        start[(int)PolicyCriterion.Ports] = n;
        if (flow.Port > 0)
        {
            n += Ports.Match(flow.Port, values[n..]);
        }

        start[(int)PolicyCriterion.Protocols] = n;
        switch (flow.Protocol)
        {
            case FlowProtocol.Tcp:
                values[n++] = ProtocolTcp;
                break;
            case FlowProtocol.Udp:
                values[n++] = ProtocolUdp;
                break;
            case FlowProtocol.Http:
                values[n++] = ProtocolHttp;
                values[n++] = ProtocolTcp;
                break;
            case FlowProtocol.Https:
                values[n++] = ProtocolHttps;
                values[n++] = ProtocolTcp;
                break;
            case FlowProtocol.Dns:
                values[n++] = ProtocolDns;
                break;
            case FlowProtocol.Unknown:
            default:
                break;
        }

        // The flow's one app segment, as AppSegmentOf picks it: a rule for *.corp does not reach an app carved out of it.
        start[(int)PolicyCriterion.AppSegments] = n;
        var first = n;
        var byName = host.IsEmpty ? null : MostSpecific(values.Slice(n, SegmentDomains.Match(host, values[n..])), flow.Port);
        var segment = byName ?? (ip.Length switch
        {
            4 => MostSpecific(values.Slice(n, SegmentCidrV4.Match(ip, values[n..])), flow.Port),
            16 => MostSpecific(values.Slice(n, SegmentCidrV6.Match(ip, values[n..])), flow.Port),
            _ => null,
        });
        if (segment is { } one)
        {
            values[first] = one;
            n = first + 1;
        }

        start[CriterionCount] = n;
    }

    private bool SegmentAdmits(int segment, int port)
    {
        var ranges = SegmentPorts[segment];
        if (ranges.Length == 0)
        {
            return true;
        }

        foreach (var (low, high) in ranges)
        {
            if (port >= low && port <= high)
            {
                return true;
            }
        }

        return false;
    }

    internal const int ProtocolTcp = 0;
    internal const int ProtocolUdp = 1;
    internal const int ProtocolHttp = 2;
    internal const int ProtocolHttps = 3;
    internal const int ProtocolDns = 4;

    private static ReadOnlySpan<char> NormaliseHost(in FlowContext flow, Span<char> buffer)
    {
        var raw = flow.Host is { } host ? host.AsSpan() : HostOfUrl(flow.Url);
        if (raw.Length > 0 && raw[^1] == '.')
        {
            raw = raw[..^1];
        }

        if (raw.Length is 0 or > MaxHost)
        {
            return [];
        }

        var written = raw.ToLowerInvariant(buffer);
        return written < 0 ? [] : buffer[..written];
    }

    /// <summary>The host of an absolute URL (<c>https://user@Host.example:8443/path</c> → <c>Host.example</c>); empty for an IP literal.</summary>
    internal static ReadOnlySpan<char> HostOfUrl(string? url)
    {
        if (url is null)
        {
            return [];
        }

        var rest = url.AsSpan();
        var scheme = rest.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            rest = rest[(scheme + 3)..];
        }

        var end = rest.IndexOfAny('/', '?', '#');
        if (end >= 0)
        {
            rest = rest[..end];
        }

        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            rest = rest[(at + 1)..];
        }

        if (rest.StartsWith("["))
        {
            return [];
        }

        var colon = rest.IndexOf(':');
        return colon >= 0 ? rest[..colon] : rest;
    }

    private static ReadOnlySpan<byte> IpBytes(in FlowContext flow, Span<byte> buffer)
    {
        if (flow.Ip is not { } ip || !ip.TryWriteBytes(buffer, out var written))
        {
            return [];
        }

        if (ip.AddressFamily == AddressFamily.InterNetworkV6 && written == 16 && buffer[..10].IndexOfAnyExcept((byte)0) < 0 && buffer[10] == 0xFF && buffer[11] == 0xFF)
        {
            return buffer[12..16];
        }

        return buffer[..written];
    }
}

/// <summary>A user from the source with groups resolved to the group values rules use.</summary>
internal sealed record CompiledUser(string Email, bool Disabled, int[] GroupValues, IReadOnlyList<string> Groups);
