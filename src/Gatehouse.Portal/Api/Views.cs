using Gatehouse.Portal.Admins;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Tenants;
using Gatehouse.Portal.Users;
using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Api;

/// <summary>Entity to API view mappings. Views never carry secrets or hashes.</summary>
public static class Views
{
    /// <summary>The API view of a tenant.</summary>
    public static TenantDto ToDto(this Tenant t) => new(t.Id, t.Name, t.CreatedAt);

    /// <summary>The API view of an admin.</summary>
    public static AdminDto ToDto(this Admin a) => new(a.Id, a.Email, a.Role, a.IsOperator, a.CreatedAt);

    /// <summary>The API view of an API token.</summary>
    public static ApiTokenDto ToDto(this ApiToken t) =>
        new(t.Id, t.Name, t.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.Revoked);

    /// <summary>The API view of a user.</summary>
    public static UserDto ToDto(this User u) =>
        new(u.Id, u.Email, u.DisplayName, u.Disabled, u.Memberships.Select(m => m.GroupId).Order().ToList(), u.CreatedAt);

    /// <summary>The API view of a proxy credential; <paramref name="username"/> is its user's current email. Never the hash.</summary>
    public static ProxyCredentialDto ToDto(this ProxyCredential c, string username) => new(c.Id, c.UserId, username, c.Description, c.CreatedAt);

    /// <summary>The API view of a group.</summary>
    public static GroupDto ToDto(this Group g) => new(g.Id, g.Name, g.Description, g.CreatedAt);

    /// <summary>The API view of an audit entry.</summary>
    public static AuditEntryDto ToDto(this AuditEntry a) =>
        new(a.Id, a.At, a.ActorId, a.Actor, a.Action, a.ObjectType, a.ObjectId, a.Before, a.After);
}
