using Gatehouse.Wire.Policy;

namespace Gatehouse.Portal.Policies;

/// <summary>One rule of a tenant's ordered policy; the first enabled rule that matches a flow decides it.</summary>
public sealed class PolicyRule : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>0-based position; a tenant's rules are numbered 0..n-1 without gaps.</summary>
    public int Order { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary>One of <see cref="PolicyActions"/>.</summary>
    public required string Action { get; set; }

    /// <summary>Disabled rules are kept but never match.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Free text.</summary>
    public string Description { get; set; } = "";

    /// <summary>When the rule applies, normalised; objects are referred to by name (stored as JSON).</summary>
    public PolicyCriteria Criteria { get; set; } = new();

    /// <summary>Inspection flags (stored as JSON).</summary>
    public List<string> Inspect { get; set; } = [];
}
