namespace Gatehouse.Portal.Users;

/// <summary>
/// A user's credential for the agentless forward proxy (<c>Proxy-Authorization: Basic</c>, user name =
/// the user's email). Only the SHA-256 of the password is kept; edges receive that hash in their bundle.
/// </summary>
public sealed class ProxyCredential : Storage.ITenantOwned
{
    /// <summary>Stable, time-ordered id.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant of the user.</summary>
    public Guid TenantId { get; set; }

    /// <summary>The user the credential signs in as.</summary>
    public Guid UserId { get; set; }

    /// <summary>Free text: what or where the credential is used.</summary>
    public string Description { get; set; } = "";

    /// <summary>
    /// Lowercase hex SHA-256 of the password. The password is 32 random bytes, so a fast hash is enough, and
    /// edges check every proxied request against it.
    /// </summary>
    public required string PasswordSha256 { get; set; }

    /// <summary>When the credential was made.</summary>
    public DateTimeOffset CreatedAt { get; set; }
}
