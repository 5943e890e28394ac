namespace Gatehouse.Portal.Admins;

/// <summary>A browser or CLI sign-in session, kept server-side so that sign-out ends it.</summary>
public sealed class AdminSession : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant of the admin.</summary>
    public Guid TenantId { get; set; }

    /// <summary>The signed-in admin.</summary>
    public Guid AdminId { get; set; }

    /// <summary>SHA-256 of the session cookie's value.</summary>
    public required string TokenHash { get; set; }

    /// <summary>SHA-256 of the CSRF token that must accompany changes.</summary>
    public required string CsrfTokenHash { get; set; }

    /// <summary>When it began.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When it ends.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}
