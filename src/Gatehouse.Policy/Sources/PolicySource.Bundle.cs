using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Policy.Sources;

public sealed partial class PolicySource
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // What the portal writes in a rule of a bundle (PolicyBundleContributor, AccessPolicyBundleContributor).
    private static readonly FrozenSet<string> RuleFields = FrozenSet.Create(StringComparer.Ordinal, "name", "action", "enabled", "criteria", "inspect");

    /// <summary>
    /// Reads the policy part of an edge config bundle body as the portal writes it:
    /// <c>policy</c> (enabled rules in order: name, action, criteria, inspect), <c>categories</c>
    /// (name → domains), <c>appSegments</c> (name, domains, cidrs, ports, …) and <c>users</c>
    /// (id, email, disabled, groups). A missing key reads as empty.
    /// </summary>
    /// <exception cref="PolicyFormatException">A key holds something of the wrong shape; the message names its path.</exception>
    public static PolicySource FromBundleBody(JsonObject body) => FromBundleBody(body, "policy");

    /// <summary>
    /// Reads the access policy of private apps from an edge bundle body: the rules of <c>accessPolicy</c>,
    /// with the same <c>appSegments</c> and <c>users</c> as the internet policy and no categories.
    /// </summary>
    /// <exception cref="PolicyFormatException">A key holds something of the wrong shape; the message names its path.</exception>
    public static PolicySource AccessFromBundleBody(JsonObject body) => FromBundleBody(body, "accessPolicy");

    private static PolicySource FromBundleBody(JsonObject body, string rulesKey)
    {
        ArgumentNullException.ThrowIfNull(body);
        var categories = rulesKey == "policy" ? ReadCategories(body["categories"]) : [];
        return new PolicySource(ReadRules(body[rulesKey], rulesKey), categories, ReadSegments(body["appSegments"]), ReadUsers(body["users"]));
    }

    private static List<PolicyRuleSpec> ReadRules(JsonNode? node, string key)
    {
        var rules = new List<PolicyRuleSpec>();
        var array = Array(node, key);
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"{key}[{i}]";
            var item = Object(array[i], path);
            RefuseUnknown(item, RuleFields, path, "rule field");
            PolicyCriteria criteria;
            try
            {
                criteria = item["criteria"]?.Deserialize<PolicyCriteria>(Json) ?? new PolicyCriteria();
            }
            catch (JsonException e) when (UnknownJsonField.PathOf(e) is { } unknown)
            {
                // PolicyCriteria and PolicySchedule refuse what they do not have.
                throw Unknown($"{path}.criteria.{unknown}", unknown.Contains('.', StringComparison.Ordinal) ? "criteria field" : "criterion");
            }
            catch (JsonException e)
            {
                throw new PolicyFormatException($"{path}.criteria{e.Path?.TrimStart('$')}", e.Message, e);
            }

            rules.Add(new PolicyRuleSpec
            {
                Name = String(item["name"], path + ".name"),
                Action = String(item["action"], path + ".action"),
                Enabled = item["enabled"] is null || Bool(item["enabled"], path + ".enabled"),
                Criteria = criteria,
                Inspect = item["inspect"] is null ? null : Strings(item["inspect"], path + ".inspect"),
            });
        }

        return rules;
    }

    private static Dictionary<string, IReadOnlyList<string>> ReadCategories(JsonNode? node)
    {
        var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (node is null)
        {
            return result;
        }

        if (node is not JsonObject categories)
        {
            throw new PolicyFormatException("categories", "must be an object of category name → list of domains.");
        }

        foreach (var (name, domains) in categories)
        {
            result[name] = Strings(domains, $"categories.{name}");
        }

        return result;
    }

    private static List<AppSegmentSource> ReadSegments(JsonNode? node)
    {
        var result = new List<AppSegmentSource>();
        var array = Array(node, "appSegments");
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"appSegments[{i}]";
            var item = Object(array[i], path);
            result.Add(new AppSegmentSource(
                String(item["name"], path + ".name"),
                Strings(item["domains"], path + ".domains"),
                Strings(item["cidrs"], path + ".cidrs"),
                Strings(item["ports"], path + ".ports")));
        }

        return result;
    }

    private static List<PolicyUser> ReadUsers(JsonNode? node)
    {
        var result = new List<PolicyUser>();
        var array = Array(node, "users");
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"users[{i}]";
            var item = Object(array[i], path);
            result.Add(new PolicyUser(
                String(item["id"], path + ".id"),
                String(item["email"], path + ".email"),
                Strings(item["groups"], path + ".groups"),
                item["disabled"] is not null && Bool(item["disabled"], path + ".disabled")));
        }

        return result;
    }

    /// <summary>
    /// Refuses a rule with a field this edge does not know; criteria refuse theirs themselves (PolicyCriteria). A rule
    /// enforced without one (say, one that a newer portal added) would match more than its author wrote.
    /// </summary>
    private static void RefuseUnknown(JsonObject item, FrozenSet<string> known, string path, string what)
    {
        foreach (var (name, _) in item)
        {
            if (!known.Contains(name))
            {
                throw Unknown($"{path}.{name}", what);
            }
        }
    }

    private static PolicyFormatException Unknown(string path, string what) => new(
        path,
        $"is a {what} this edge does not know; enforcing the rule without it would match more than written, so the policy is refused. Is the portal newer than the edge? Upgrade the edge.");

    private static JsonArray Array(JsonNode? node, string path) => node switch
    {
        null => [],
        JsonArray array => array,
        _ => throw new PolicyFormatException(path, "must be a list."),
    };

    private static JsonObject Object(JsonNode? node, string path) =>
        node as JsonObject ?? throw new PolicyFormatException(path, "must be an object.");

    private static string String(JsonNode? node, string path) =>
        node is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw new PolicyFormatException(path, "must be a string.");

    private static bool Bool(JsonNode? node, string path) =>
        node is JsonValue value && value.TryGetValue<bool>(out var flag)
            ? flag
            : throw new PolicyFormatException(path, "must be true or false.");

    private static List<string> Strings(JsonNode? node, string path)
    {
        var array = Array(node, path);
        var result = new List<string>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            result.Add(String(array[i], $"{path}[{i}]"));
        }

        return result;
    }
}
