using System.Globalization;
using Gatehouse.Portal.AccessPolicies;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.AppSegments;
using Gatehouse.Portal.Categories;
using Gatehouse.Portal.Dr;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Policy;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Policies;

/// <summary>
/// Checks and normalises policy rules as admins write them. Every failure names the exact
/// field (<c>rules[3].criteria.domains[0]</c> in a document, <c>criteria.domains[0]</c> for one rule).
/// </summary>
public static class PolicyValidation
{
    /// <summary>The most rules one tenant's policy may hold.</summary>
    public const int MaxRules = 100_000;

    /// <summary>Days a schedule may name.</summary>
    public static readonly IReadOnlyList<string> Days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    /// <summary>Checks a whole document and returns its rules normalised, in order; names must be unique within it.</summary>
    public static List<PolicyRuleSpec> NormaliseDocument(PolicyDocument? document)
    {
        if (document?.Rules is not { } rules)
        {
            throw PortalException.Invalid("rules", "The body must be a policy document with a rules list.");
        }

        if (rules.Count > MaxRules)
        {
            throw PortalException.Invalid("rules", $"A policy holds at most {MaxRules} rules; this one has {rules.Count}.");
        }

        var normalised = new List<PolicyRuleSpec>(rules.Count);
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var prefix = $"rules[{i}].";
            var rule = Normalise(rules[i], prefix);
            if (!names.TryAdd(rule.Name, i))
            {
                throw PortalException.Invalid(prefix + "name", $"The rule name '{rule.Name}' is already used by rules[{names[rule.Name]}].");
            }

            normalised.Add(rule);
        }

        return normalised;
    }

    /// <summary>Checks one rule; <paramref name="prefix"/> is prepended to every field path (empty for a single rule).</summary>
    public static PolicyRuleSpec Normalise(PolicyRuleSpec? rule, string prefix)
    {
        if (rule is null)
        {
            throw PortalException.Invalid(prefix.Length == 0 ? "$" : prefix.TrimEnd('.'), "A rule must not be null.");
        }

        var criteria = rule.Criteria ?? throw PortalException.Invalid(prefix + "criteria", "criteria must not be null.");
        var c = prefix + "criteria.";
        return new PolicyRuleSpec
        {
            Name = Validate.Name(rule.Name, prefix + "name"),
            Action = Validate.OneOf(rule.Action, prefix + "action", PolicyActions.All),
            Enabled = rule.Enabled,
            Description = NullIfEmpty(Validate.Text(rule.Description, prefix + "description")),
            Criteria = new PolicyCriteria
            {
                Users = List(criteria.Users, c + "users", Validate.Email),
                Groups = List(criteria.Groups, c + "groups", (v, f) => Validate.Name(v, f)),
                Posture = List(criteria.Posture, c + "posture", (v, f) => Validate.Name(v, f)),
                Networks = List(criteria.Networks, c + "networks", (v, f) => Validate.OneOf(v, f, NetworkKinds.All)),
                Schedule = criteria.Schedule is null ? null : Schedule(criteria.Schedule, c + "schedule"),
                Domains = List(criteria.Domains, c + "domains", (v, f) => Validate.Domain(v, f)),
                Categories = List(criteria.Categories, c + "categories", (v, f) => Validate.Name(v, f)),
                Cidrs = List(criteria.Cidrs, c + "cidrs", Validate.Cidr),
                Ports = List(criteria.Ports, c + "ports", Validate.PortRange),
                Protocols = List(criteria.Protocols, c + "protocols", (v, f) => Validate.OneOf(v, f, PolicyProtocols.All)),
                AppSegments = List(criteria.AppSegments, c + "appSegments", (v, f) => Validate.Name(v, f)),
                SegmentGroups = List(criteria.SegmentGroups, c + "segmentGroups", (v, f) => Validate.Name(v, f)),
            },
            Inspect = List(rule.Inspect, prefix + "inspect", (v, f) => Validate.OneOf(v, f, InspectionFlags.All)),
        };
    }

    /// <summary>
    /// Checks that every group, user, URL category and app segment the rules name exists in the
    /// caller's tenant; the error names the first unknown one by its path.
    /// </summary>
    public static async Task CheckReferencesAsync(PortalDbContext db, IReadOnlyList<PolicyRuleSpec> rules, Func<int, string> prefixOf, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(prefixOf);
        await CheckAsync(rules, prefixOf, c => c.Groups, "groups", "group",
            names => db.Groups.Where(g => names.Contains(g.Name)).Select(g => g.Name).ToListAsync(ct));
        await CheckAsync(rules, prefixOf, c => c.Users, "users", "user",
            names => db.Users.Where(u => names.Contains(u.Email)).Select(u => u.Email).ToListAsync(ct));
        await CheckAsync(rules, prefixOf, c => c.Categories, "categories", "URL category",
            names => db.Set<UrlCategory>().Where(u => names.Contains(u.Name)).Select(u => u.Name).ToListAsync(ct));
        await CheckAsync(rules, prefixOf, c => c.AppSegments, "appSegments", "app segment",
            names => db.Set<AppSegment>().Where(s => names.Contains(s.Name)).Select(s => s.Name).ToListAsync(ct));
        await CheckAsync(rules, prefixOf, c => c.SegmentGroups, "segmentGroups", "segment group",
            names => db.Set<SegmentGroup>().Where(g => names.Contains(g.Name)).Select(g => g.Name).ToListAsync(ct));
    }

    /// <summary>
    /// Checks a whole access policy (<see cref="AccessPolicy"/>): a policy document whose rules allow or block
    /// and use only who, where-from and when criteria and app segments or segment groups.
    /// </summary>
    public static List<PolicyRuleSpec> NormaliseAccessDocument(PolicyDocument? document)
    {
        var rules = NormaliseDocument(document);
        for (var i = 0; i < rules.Count; i++)
        {
            CheckAccessRule(rules[i], $"rules[{i}].");
        }

        return rules;
    }

    /// <summary>Checks that a normalised rule is an access rule; <paramref name="prefix"/> as in <see cref="Normalise"/>.</summary>
    public static void CheckAccessRule(PolicyRuleSpec rule, string prefix)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (!AccessPolicy.Actions.Contains(rule.Action, StringComparer.Ordinal))
        {
            throw PortalException.Invalid(prefix + "action", $"An access rule allows or blocks; '{rule.Action}' is not one of them.");
        }

        var c = rule.Criteria;
        var destination = (c.Domains, c.Categories, c.Cidrs, c.Ports, c.Protocols) switch
        {
            ({ }, _, _, _, _) => "domains",
            (_, { }, _, _, _) => "categories",
            (_, _, { }, _, _) => "cidrs",
            (_, _, _, { }, _) => "ports",
            (_, _, _, _, { }) => "protocols",
            _ => null,
        };
        if (destination is not null)
        {
            throw PortalException.Invalid($"{prefix}criteria.{destination}", $"An access rule names its destinations as app segments or segment groups, not {destination}.");
        }

        if (rule.Inspect is not null)
        {
            throw PortalException.Invalid(prefix + "inspect", "An access rule has no inspection.");
        }
    }

    /// <summary>
    /// The first rule whose criteria name <paramref name="name"/> in the selected list, said as an admin would look
    /// for it ("the policy rule 'x'", "the access rule 'x'", "the DR policy's rule 'x'"), or null. The internet policy,
    /// the access policy and the DR policy are all looked at: each is compiled on the edges, and a name one of them
    /// still uses would make every edge refuse the next bundle.
    /// </summary>
    public static async Task<string?> FindRuleNamingAsync(PortalDbContext db, Func<PolicyCriteria, IReadOnlyList<string>?> select, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(select);
        bool Names(PolicyCriteria criteria) => select(criteria)?.Contains(name, StringComparer.Ordinal) == true;

        // Criteria are JSON text, so the check runs here rather than in SQL; it runs only when an object is deleted or renamed.
        var rules = await db.Set<PolicyRule>().AsNoTracking().OrderBy(r => r.Order).Select(r => new { r.Name, r.Criteria }).ToListAsync(ct);
        if (rules.FirstOrDefault(r => Names(r.Criteria)) is { } rule)
        {
            return $"the policy rule '{rule.Name}'";
        }

        var access = await db.Set<AccessRule>().AsNoTracking().OrderBy(r => r.Order).Select(r => new { r.Name, r.Criteria }).ToListAsync(ct);
        if (access.FirstOrDefault(r => Names(r.Criteria)) is { } accessRule)
        {
            return $"the access rule '{accessRule.Name}'";
        }

        var dr = await db.Set<DrSettings>().AsNoTracking().Select(d => d.Rules).FirstOrDefaultAsync(ct) ?? [];
        return dr.FirstOrDefault(r => Names(r.Criteria)) is { } drRule ? $"the DR policy's rule '{drRule.Name}'" : null;
    }

    private static async Task CheckAsync(
        IReadOnlyList<PolicyRuleSpec> rules,
        Func<int, string> prefixOf,
        Func<PolicyCriteria, IReadOnlyList<string>?> select,
        string field,
        string what,
        Func<List<string>, Task<List<string>>> existing)
    {
        var wanted = rules.SelectMany(r => select(r.Criteria) ?? []).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return;
        }

        var known = (await existing(wanted)).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < rules.Count; i++)
        {
            var names = select(rules[i].Criteria) ?? [];
            for (var j = 0; j < names.Count; j++)
            {
                if (!known.Contains(names[j]))
                {
                    throw PortalException.Invalid($"{prefixOf(i)}criteria.{field}[{j}]", $"No {what} named '{names[j]}' exists.");
                }
            }
        }
    }

    private static PolicySchedule Schedule(PolicySchedule schedule, string field)
    {
        var days = List(schedule.Days, field + ".days", (v, f) => Validate.OneOf(v, f, Days))
            ?? throw PortalException.Invalid(field + ".days", $"{field}.days must name at least one day.");
        var from = Time(schedule.From, field + ".from");
        var to = Time(schedule.To, field + ".to");
        if (from >= to)
        {
            throw PortalException.Invalid(field + ".to", $"{field}.to must be later than {field}.from.");
        }

        string? zone = null;
        if (schedule.TimeZone is not null)
        {
            zone = schedule.TimeZone.Trim();
            if (zone.Length == 0 || !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
            {
                throw PortalException.Invalid(field + ".timeZone", $"{field}.timeZone is not a known IANA time zone: '{schedule.TimeZone}'.");
            }
        }

        return new PolicySchedule(days, from.ToString("HH:mm", CultureInfo.InvariantCulture), to.ToString("HH:mm", CultureInfo.InvariantCulture), zone);
    }

    private static TimeOnly Time(string? value, string field) =>
        TimeOnly.TryParseExact(value?.Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time
            : throw PortalException.Invalid(field, $"{field} must be a time of day as HH:mm (for example 08:30); got '{value}'.");

    /// <summary>Checks and normalises each item; duplicates are dropped and an empty list becomes null (no condition).</summary>
    private static List<string>? List(IReadOnlyList<string>? values, string field, Func<string?, string, string> check)
    {
        if (values is null || values.Count == 0)
        {
            return null;
        }

        var result = new List<string>(values.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < values.Count; i++)
        {
            var value = check(values[i], $"{field}[{i}]");
            if (seen.Add(value))
            {
                result.Add(value);
            }
        }

        return result;
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
