namespace Gatehouse.Portal.Users;

/// <summary>A person whose devices run the agent.</summary>
public sealed class User : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant (lower case).</summary>
    public required string Email { get; set; }

    /// <summary>Name shown in logs and the UI.</summary>
    public required string DisplayName { get; set; }

    /// <summary>A disabled user's devices are refused.</summary>
    public bool Disabled { get; set; }

    /// <summary>When the user was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Group memberships.</summary>
    public List<GroupMembership> Memberships { get; set; } = [];
}

/// <summary>A user's membership of a group. Tenant-owned so that a change re-publishes the tenant's bundles.</summary>
public sealed class GroupMembership : Storage.ITenantOwned
{
    /// <summary>The tenant of both the user and the group.</summary>
    public Guid TenantId { get; set; }

    /// <summary>The user.</summary>
    public Guid UserId { get; set; }

    /// <summary>The group.</summary>
    public Guid GroupId { get; set; }
}
