namespace Gatehouse.Portal.Admins;

/// <summary>An administrator of one tenant.</summary>
public sealed class Admin : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant this admin manages.</summary>
    public Guid TenantId { get; set; }

    /// <summary>Sign-in name, unique across the portal (lower case).</summary>
    public required string Email { get; set; }

    /// <summary>A slow salted hash of the password.</summary>
    public required string PasswordHash { get; set; }

    /// <summary>One of <see cref="Wire.Api.AdminRoles"/>.</summary>
    public required string Role { get; set; }

    /// <summary>Operators run the portal itself: they may create tenants (and see nothing inside them).</summary>
    public bool IsOperator { get; set; }

    /// <summary>A one-time password must be replaced before anything else is allowed.</summary>
    public bool MustChangePassword { get; set; }

    /// <summary>When the admin was created.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
