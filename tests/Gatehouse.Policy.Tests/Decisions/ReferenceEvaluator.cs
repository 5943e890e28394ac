using System.Globalization;
using System.Net;
using Gatehouse.Policy.Decisions;
using Gatehouse.Policy.Sources;

namespace Gatehouse.Policy.Tests.Decisions;

/// <summary>
/// The policy semantics written as plainly as possible: strings compared directly, every rule
/// checked in order, no index. The compiled policy must agree with it on every flow.
/// </summary>
internal static class ReferenceEvaluator
{
    public static int Evaluate(PolicySource source, FlowContext flow)
    {
        var user = source.Users.FirstOrDefault(u => u.Id == flow.UserId)
            ?? (flow.UserEmail is null ? null : source.Users.FirstOrDefault(u => string.Equals(u.Email, flow.UserEmail, StringComparison.OrdinalIgnoreCase)));
        if (user is { Disabled: true })
        {
            return -2;
        }

        var email = flow.UserEmail ?? user?.Email;
        var groups = flow.Groups.Length > 0 ? flow.Groups.ToArray() : user?.Groups.ToArray() ?? [];
        var host = Host(flow);
        var ip = flow.Ip is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : flow.Ip;
        var categories = host is null ? [] : source.Categories.Where(c => c.Value.Any(d => InCategory(host, d))).Select(c => c.Key).ToHashSet();
        // The flow's one segment: of those admitting its port, the most specific domain (exact, then the longest
        // wildcard suffix), else the longest network prefix.
        var admitting = source.AppSegments.Where(s => s.Ports.Count == 0 || s.Ports.Any(p => PortMatches(p, flow.Port))).ToList();
        var byName = host is null ? null : admitting
            .Select(s => (s.Name, Score: s.Domains.Where(d => DomainMatches(host, d)).Select(d => d.StartsWith("*.", StringComparison.Ordinal) ? d.Length : int.MaxValue).DefaultIfEmpty(-1).Max()))
            .Where(s => s.Score >= 0).OrderByDescending(s => s.Score).Select(s => s.Name).FirstOrDefault();
        var byAddress = ip is null ? null : admitting
            .Select(s => (s.Name, Prefix: s.Cidrs.Where(c => Contains(c, ip)).Select(c => Network(c).PrefixLength).DefaultIfEmpty(-1).Max()))
            .Where(s => s.Prefix >= 0).OrderByDescending(s => s.Prefix).Select(s => s.Name).FirstOrDefault();
        var segments = (byName ?? byAddress) is { } segment ? new HashSet<string> { segment } : [];

        for (var i = 0; i < source.Rules.Count; i++)
        {
            var rule = source.Rules[i];
            var c = rule.Criteria;
            if (!rule.Enabled)
            {
                continue;
            }

            if (Fails(c.Users, u => email is not null && string.Equals(u, email, StringComparison.OrdinalIgnoreCase))
                || Fails(c.Groups, groups.Contains)
                || Fails(c.Posture, flow.Posture.ToArray().Contains)
                || Fails(c.Networks, n => n == flow.Network.ToString().ToLowerInvariant())
                || (c.Schedule is { } schedule && !InSchedule(schedule, flow.Time))
                || Fails(c.Domains, d => host is not null && DomainMatches(host, d))
                || Fails(c.Categories, categories.Contains)
                || Fails(c.Cidrs, cidr => ip is not null && Contains(cidr, ip))
                || Fails(c.Ports, p => PortMatches(p, flow.Port))
                || Fails(c.Protocols, p => ProtocolMatches(p, flow.Protocol))
                || Fails(c.AppSegments, segments.Contains))
            {
                continue;
            }

            return i;
        }

        return -1;
    }

    private static bool Fails(IReadOnlyList<string>? values, Func<string, bool> matches) => values is { Count: > 0 } && !values.Any(matches);

    private static string? Host(FlowContext flow)
    {
        var host = flow.Host;
        if (host is null && flow.Url is not null)
        {
            var uri = new Uri(flow.Url);
            host = uri.HostNameType == UriHostNameType.Dns ? uri.Host : null;
        }

        host = host?.TrimEnd('.').ToLowerInvariant();
        return string.IsNullOrEmpty(host) ? null : host;
    }

    private static bool DomainMatches(string host, string pattern) =>
        pattern.StartsWith("*.", StringComparison.Ordinal) ? host.EndsWith(pattern[1..], StringComparison.Ordinal) : host == pattern;

    private static bool InCategory(string host, string domain) =>
        domain.StartsWith("*.", StringComparison.Ordinal) ? host.EndsWith(domain[1..], StringComparison.Ordinal) : host == domain || host.EndsWith("." + domain, StringComparison.Ordinal);

    private static bool Contains(string cidr, IPAddress ip) => Network(cidr).Contains(ip);

    private static IPNetwork Network(string cidr) =>
        IPNetwork.Parse(cidr.Contains('/', StringComparison.Ordinal) ? cidr : cidr + (cidr.Contains(':', StringComparison.Ordinal) ? "/128" : "/32"));

    private static bool PortMatches(string range, int port)
    {
        var parts = range.Split('-');
        var low = int.Parse(parts[0], CultureInfo.InvariantCulture);
        var high = int.Parse(parts[^1], CultureInfo.InvariantCulture);
        return port >= low && port <= high;
    }

    private static bool ProtocolMatches(string protocol, FlowProtocol flow) =>
        protocol == flow.ToString().ToLowerInvariant() || (protocol == "tcp" && flow is FlowProtocol.Http or FlowProtocol.Https);

    private static bool InSchedule(Wire.Policy.PolicySchedule schedule, DateTimeOffset time)
    {
        var local = TimeZoneInfo.ConvertTime(time, TimeZoneInfo.FindSystemTimeZoneById(schedule.TimeZone ?? "UTC"));
        var day = local.DayOfWeek.ToString()[..3].ToLowerInvariant();
        var now = TimeOnly.FromTimeSpan(local.TimeOfDay);
        return schedule.Days.Contains(day) && now >= TimeOnly.Parse(schedule.From, CultureInfo.InvariantCulture) && now < TimeOnly.Parse(schedule.To, CultureInfo.InvariantCulture);
    }
}
