using Gatehouse.Wire.Policy;

namespace Gatehouse.Policy.Sources;

/// <summary>
/// Everything a policy is compiled from: the ordered rules (first match wins), the URL categories,
/// the app segments and the users. Objects are referred to by name, as the portal stores them.
/// </summary>
public sealed partial class PolicySource
{
    /// <summary>An empty source: no rules, so every flow is allowed by default.</summary>
    public static readonly PolicySource Empty = new([], new Dictionary<string, IReadOnlyList<string>>(), [], []);

    /// <summary>Creates a source.</summary>
    /// <param name="rules">The rules in order; a rule's index in this list is its number in decisions.</param>
    /// <param name="categories">URL category name → domains (<c>example.com</c> also covers every subdomain).</param>
    /// <param name="appSegments">The app segments rules may name.</param>
    /// <param name="users">The users, so that a flow naming only a user id gets that user's email and groups.</param>
    public PolicySource(
        IReadOnlyList<PolicyRuleSpec> rules,
        IReadOnlyDictionary<string, IReadOnlyList<string>> categories,
        IReadOnlyList<AppSegmentSource> appSegments,
        IReadOnlyList<PolicyUser> users)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(appSegments);
        ArgumentNullException.ThrowIfNull(users);
        Rules = rules;
        Categories = categories;
        AppSegments = appSegments;
        Users = users;
    }

    /// <summary>The rules in order; the first enabled rule that matches decides a flow.</summary>
    public IReadOnlyList<PolicyRuleSpec> Rules { get; }

    /// <summary>URL category name → domains.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Categories { get; }

    /// <summary>App segments by name.</summary>
    public IReadOnlyList<AppSegmentSource> AppSegments { get; }

    /// <summary>Users with their groups.</summary>
    public IReadOnlyList<PolicyUser> Users { get; }
}

/// <summary>A private application as the policy sees it: domains and/or networks, with ports (none means every port).</summary>
/// <param name="Name">Unique name; rules refer to the segment by it.</param>
/// <param name="Domains">Domains, exact (<c>crm.corp</c>) or wildcard (<c>*.crm.corp</c>).</param>
/// <param name="Cidrs">Networks in CIDR notation (a bare address is one host).</param>
/// <param name="Ports">Ports or ranges (<c>443</c>, <c>8000-8080</c>); empty means every port.</param>
public sealed record AppSegmentSource(string Name, IReadOnlyList<string> Domains, IReadOnlyList<string> Cidrs, IReadOnlyList<string> Ports);

/// <summary>A user as the policy sees it.</summary>
/// <param name="Id">Stable id (what the edge learns from the device's certificate).</param>
/// <param name="Email">Email; rules name users by it.</param>
/// <param name="Groups">Names of the groups the user is in.</param>
/// <param name="Disabled">A disabled user's flows are blocked before any rule is looked at.</param>
public sealed record PolicyUser(string Id, string Email, IReadOnlyList<string> Groups, bool Disabled = false);
