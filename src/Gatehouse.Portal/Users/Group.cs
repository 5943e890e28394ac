namespace Gatehouse.Portal.Users;

/// <summary>A named set of users that policies refer to.</summary>
public sealed class Group : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The owning tenant.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Unique within the tenant.</summary>
    public required string Name { get; set; }

    /// <summary>Free text.</summary>
    public string Description { get; set; } = "";

    /// <summary>When the group was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
