namespace Gatehouse.Wire.Api;

/// <summary>A user of the tenant (an employee whose devices run the agent).</summary>
public sealed record UserDto(Guid Id, string Email, string DisplayName, bool Disabled, IReadOnlyList<Guid> GroupIds, DateTimeOffset CreatedAt);

/// <summary>Creates a user.</summary>
public sealed record CreateUserRequest(string Email, string? DisplayName, IReadOnlyList<Guid>? GroupIds);

/// <summary>Changes a user; absent fields stay as they are.</summary>
public sealed record UpdateUserRequest(string? DisplayName, bool? Disabled, IReadOnlyList<Guid>? GroupIds);

/// <summary>A group of users.</summary>
public sealed record GroupDto(Guid Id, string Name, string Description, DateTimeOffset CreatedAt);

/// <summary>Creates a group.</summary>
public sealed record CreateGroupRequest(string Name, string? Description);

/// <summary>Changes a group; absent fields stay as they are.</summary>
public sealed record UpdateGroupRequest(string? Name, string? Description);
