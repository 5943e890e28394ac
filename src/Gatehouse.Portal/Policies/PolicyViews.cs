using Gatehouse.Wire.Policy;

namespace Gatehouse.Portal.Policies;

/// <summary>Policy rule to API view mappings.</summary>
public static class PolicyViews
{
    /// <summary>The API view of a stored rule.</summary>
    public static PolicyRuleDto ToDto(this PolicyRule r) => new(r.Id, r.Order, r.ToSpec());

    /// <summary>The rule as an admin writes it; exporting and importing it again yields the same rule.</summary>
    public static PolicyRuleSpec ToSpec(this PolicyRule r) => new()
    {
        Name = r.Name,
        Action = r.Action,
        Enabled = r.Enabled,
        Description = r.Description.Length == 0 ? null : r.Description,
        Criteria = r.Criteria,
        Inspect = r.Inspect.Count == 0 ? null : r.Inspect,
    };

    /// <summary>A summary of a whole policy for the audit log: how many rules, and their names in order.</summary>
    public static object Summary(IReadOnlyList<string> names) => new { count = names.Count, names };
}
