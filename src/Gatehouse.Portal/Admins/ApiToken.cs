namespace Gatehouse.Portal.Admins;

/// <summary>A scoped, expiring API token; only its hash is stored.</summary>
public sealed class ApiToken : Storage.ITenantOwned
{
    /// <summary>Stable id.</summary>
    public Guid Id { get; set; }

    /// <summary>The tenant of the owning admin.</summary>
    public Guid TenantId { get; set; }

    /// <summary>The admin the token acts as.</summary>
    public Guid AdminId { get; set; }

    /// <summary>A name to recognise it by.</summary>
    public required string Name { get; set; }

    /// <summary>SHA-256 of the token (tokens are high-entropy, so no slow KDF is needed).</summary>
    public required string TokenHash { get; set; }

    /// <summary>Space-separated scopes.</summary>
    public required string Scopes { get; set; }

    /// <summary>When it was made.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>After this it is refused.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Last time it authenticated a request (updated at most once a minute).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    /// <summary>Revoked tokens are refused.</summary>
    public bool Revoked { get; set; }
}
