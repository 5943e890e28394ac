namespace Gatehouse.Portal.Enrollment;

/// <summary>A secret that enrolls edges or connectors; only its hash is stored.</summary>
public sealed class ProvisioningKey : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant edges or connectors enroll into.</summary>
    public Guid TenantId { get; set; }

    /// <summary>A name to recognise it by.</summary>
    public required string Name { get; set; }

    /// <summary>One of <see cref="Wire.Api.ProvisioningKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The group connectors enrolled with this key join (connector keys only).</summary>
    public Guid? ConnectorGroupId { get; set; }

    /// <summary>SHA-256 of the key.</summary>
    public required string KeyHash { get; set; }

    /// <summary>When it was made.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>After this it is refused.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>How many enrollments it allows.</summary>
    public int MaxUses { get; set; }

    /// <summary>How many enrollments it has made; raised atomically.</summary>
    public int UseCount { get; set; }

    /// <summary>Revoked keys are refused.</summary>
    public bool Revoked { get; set; }
}
