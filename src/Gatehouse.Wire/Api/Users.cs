namespace Gatehouse.Wire.Api;

/// <summary>A user of the tenant (an employee whose devices run the agent).</summary>
public sealed record UserDto(Guid Id, string Email, string DisplayName, bool Disabled, IReadOnlyList<Guid> GroupIds, DateTimeOffset CreatedAt);

/// <summary>Creates a user.</summary>
public sealed record CreateUserRequest(string Email, string? DisplayName = null, IReadOnlyList<Guid>? GroupIds = null);

/// <summary>Changes a user; absent fields stay as they are.</summary>
public sealed record UpdateUserRequest(string? DisplayName = null, bool? Disabled = null, IReadOnlyList<Guid>? GroupIds = null);

/// <summary>A group of users.</summary>
public sealed record GroupDto(Guid Id, string Name, string Description, DateTimeOffset CreatedAt);

/// <summary>Creates a group.</summary>
public sealed record CreateGroupRequest(string Name, string? Description = null);

/// <summary>Changes a group; absent fields stay as they are.</summary>
public sealed record UpdateGroupRequest(string? Name = null, string? Description = null);

/// <summary>
/// A user's credentials for the agentless forward proxy (<c>Proxy-Authorization: Basic</c>, user name =
/// the user's email). The password is shown only when made; the portal and the edges keep its SHA-256.
/// </summary>
public sealed record ProxyCredentialDto(Guid Id, Guid UserId, string Username, string Description, DateTimeOffset CreatedAt);

/// <summary>Makes a proxy credential for a user.</summary>
public sealed record CreateProxyCredentialRequest(string? Description = null);

/// <summary>The new credential; <see cref="Password"/> is shown once.</summary>
public sealed record CreateProxyCredentialResponse(ProxyCredentialDto Credential, string Password);
