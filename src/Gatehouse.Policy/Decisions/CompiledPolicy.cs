using System.Buffers;
using System.Net.Sockets;
using System.Numerics;
using Gatehouse.Policy.Compilation;
using Gatehouse.Policy.Explain;
using Gatehouse.Policy.Matching;
using Gatehouse.Policy.Sources;

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
        int[]? rentedCursors = null;
        Span<int> values = bound <= StackValues ? stackalloc int[StackValues] : (rentedValues = ArrayPool<int>.Shared.Rent(bound));
        Span<int> cursors = bound <= StackValues ? stackalloc int[StackValues] : (rentedCursors = ArrayPool<int>.Shared.Rent(bound));
        Span<int> start = stackalloc int[CriterionCount + 1];
        Collect(flow, host, ip, user, values, start);

        var rule = FirstMatch(flow, values, cursors, start);
        var decision = DecisionFor(rule, values[start[(int)PolicyCriterion.Categories]..start[(int)PolicyCriterion.Categories + 1]]);
        if (rentedValues is not null)
        {
            ArrayPool<int>.Shared.Return(rentedValues);
            ArrayPool<int>.Shared.Return(rentedCursors!);
        }

        return decision;
    }

    private int FirstMatch(in FlowContext flow, ReadOnlySpan<int> values, Span<int> cursors, ReadOnlySpan<int> start)
    {
        var words = Words;
        if (words == 0)
        {
            return -1;
        }

        var active = ActiveCriteria;
        var criteria = Criteria;

        // Words that can hold a match: those where some enabled rule uses no active criterion,
        // and those some matched value has rules in; every other word is zero in the intersection.
        var summaryWords = AnyAllSummary.Length;
        Span<ulong> summary = stackalloc ulong[summaryWords];
        AnyAllSummary.CopyTo(summary);
        foreach (var c in active)
        {
            var set = criteria[c]!;
            for (var k = start[c]; k < start[c + 1]; k++)
            {
                var value = values[k];
                var from = set.ValueChunkStart[value];
                cursors[k] = from;
                var offset = set.ValueSummary[value];
                if (offset >= 0)
                {
                    var own = set.Summaries.AsSpan(offset, summaryWords);
                    for (var s = 0; s < summaryWords; s++)
                    {
                        summary[s] |= own[s];
                    }
                }
                else
                {
                    for (var i = from; i < set.ValueChunkStart[value + 1]; i++)
                    {
                        var word = set.ChunkWord[i];
                        summary[word >> 6] |= 1UL << (word & 63);
                    }
                }
            }
        }

        var enabled = EnabledBits;
        for (var s = 0; s < summaryWords; s++)
        {
            var pending = summary[s];
            while (pending != 0)
            {
                var w = (s << 6) + BitOperations.TrailingZeroCount(pending);
                pending &= pending - 1;
                var result = enabled[w];
                foreach (var c in active)
                {
                    var set = criteria[c]!;
                    var x = set.Any[w];
                    for (var k = start[c]; k < start[c + 1]; k++)
                    {
                        var end = set.ValueChunkStart[values[k] + 1];
                        var i = cursors[k];
                        while (i < end && set.ChunkWord[i] < w)
                        {
                            i++;
                        }

                        cursors[k] = i;
                        if (i < end && set.ChunkWord[i] == w)
                        {
                            x |= set.ChunkBits[i];
                        }
                    }

                    result &= x;
                    if (result == 0)
                    {
                        break;
                    }
                }

                while (result != 0)
                {
                    var rule = (w << 6) + BitOperations.TrailingZeroCount(result);
                    result &= result - 1;
                    var schedule = RuleSchedule[rule];
                    if (schedule < 0 || Schedules[schedule].Contains(flow.Time))
                    {
                        return rule;
                    }
                }
            }
        }

        return -1;
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

        start[(int)PolicyCriterion.AppSegments] = n;
        var first = n;
        if (!host.IsEmpty)
        {
            n += SegmentDomains.Match(host, values[n..]);
        }

        if (ip.Length == 4)
        {
            n += SegmentCidrV4.Match(ip, values[n..]);
        }
        else if (ip.Length == 16)
        {
            n += SegmentCidrV6.Match(ip, values[n..]);
        }

        // Keep the segments whose ports admit the flow's port (a segment without ports admits every port).
        var kept = first;
        for (var i = first; i < n; i++)
        {
            if (SegmentAdmits(values[i], flow.Port))
            {
                values[kept++] = values[i];
            }
        }

        start[CriterionCount] = kept;
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
