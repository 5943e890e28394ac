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
