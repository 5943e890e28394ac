namespace Gatehouse.Portal.Enrollment;

/// <summary>A secret that enrolls up to <see cref="MaxUses"/> devices until it expires; only its hash is stored.</summary>
public sealed class EnrollmentToken : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant devices enroll into.</summary>
    public Guid TenantId { get; set; }

    /// <summary>What it is for.</summary>
    public required string Description { get; set; }

    /// <summary>The user every device enrolled with it belongs to, if any.</summary>
    public Guid? UserId { get; set; }

    /// <summary>SHA-256 of the token.</summary>
    public required string TokenHash { get; set; }

    /// <summary>When it was made.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>After this it is refused.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>How many enrollments it allows.</summary>
    public int MaxUses { get; set; }

    /// <summary>How many enrollments it has made; raised atomically.</summary>
    public int UseCount { get; set; }

    /// <summary>Revoked tokens are refused.</summary>
    public bool Revoked { get; set; }
}
