namespace Gatehouse.Wire.Api;

/// <summary>Scopes an API token can carry.</summary>
public static class TokenScopes
{
    /// <summary>Read any object of the tenant.</summary>
    public const string Read = "read";
    /// <summary>Create, change and delete objects (within the admin's role).</summary>
    public const string Write = "write";

    /// <summary>All scopes.</summary>
    public static readonly IReadOnlyList<string> All = [Read, Write];
}

/// <summary>An API token as listed; the secret itself is never shown again.</summary>
public sealed record ApiTokenDto(Guid Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? LastUsedAt, bool Revoked);

/// <summary>Creates an API token for the signed-in admin.</summary>
public sealed record CreateApiTokenRequest(string Name, IReadOnlyList<string> Scopes, int? ExpiresInDays = null);

/// <summary>The new token; <see cref="Token"/> is shown once.</summary>
public sealed record CreateApiTokenResponse(ApiTokenDto ApiToken, string Token);
