using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Users;

/// <summary>Users and groups of the caller's tenant.</summary>
internal static class UserEndpoints
{
    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("users");
        users.MapGet("/", ListUsersAsync);
        users.MapGet("/{id:guid}", GetUserAsync);
        users.MapPost("/", CreateUserAsync).RequireAuthorization(AuthPolicies.Write);
        users.MapPatch("/{id:guid}", UpdateUserAsync).RequireAuthorization(AuthPolicies.Write);
        users.MapDelete("/{id:guid}", DeleteUserAsync).RequireAuthorization(AuthPolicies.Write);

        var groups = api.MapGroup("/groups").WithTags("groups");
        groups.MapGet("/", ListGroupsAsync);
        groups.MapGet("/{id:guid}", GetGroupAsync);
        groups.MapPost("/", CreateGroupAsync).RequireAuthorization(AuthPolicies.Write);
        groups.MapPatch("/{id:guid}", UpdateGroupAsync).RequireAuthorization(AuthPolicies.Write);
        groups.MapDelete("/{id:guid}", DeleteGroupAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<Page<UserDto>> ListUsersAsync(PortalDbContext db, string? cursor, int? limit, string? email, CancellationToken ct)
    {
        var query = db.Users.AsNoTracking().Include(u => u.Memberships).AsQueryable();
        if (!string.IsNullOrWhiteSpace(email))
        {
            var lower = email.Trim().ToLowerInvariant();
            query = query.Where(u => u.Email == lower);
        }

        return await query.PageAsync(u => u.Id, cursor, limit, u => u.ToDto(), ct);
    }

    private static async Task<UserDto> GetUserAsync(Guid id, PortalDbContext db, CancellationToken ct) =>
        (await FindUserAsync(db, id, ct)).ToDto();

    private static async Task<User> FindUserAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Users.Include(u => u.Memberships).FirstOrDefaultAsync(u => u.Id == id, ct) ?? throw PortalException.NotFound("User");

    private static async Task<IResult> CreateUserAsync(CreateUserRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var email = Validate.Email(request.Email, "email");
        if (await db.Users.AnyAsync(u => u.Email == email, ct))
        {
            throw PortalException.Conflict($"A user with the email '{email}' already exists.", "email");
        }

        var user = new User
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = caller.TenantId,
            Email = email,
            DisplayName = request.DisplayName is null ? email : Validate.Name(request.DisplayName, "displayName", 200),
            CreatedAt = time.GetUtcNow(),
        };
        await SetGroupsAsync(db, user, request.GroupIds, ct);
        db.Users.Add(user);
        audit.Record("user.create", "user", user.Id, null, user.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/users/{user.Id}", user.ToDto());
    }

    private static async Task<UserDto> UpdateUserAsync(Guid id, UpdateUserRequest request, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var user = await FindUserAsync(db, id, ct);
        var before = user.ToDto();
        if (request.DisplayName is not null)
        {
            user.DisplayName = Validate.Name(request.DisplayName, "displayName", 200);
        }

        if (request.Disabled is { } disabled)
        {
            user.Disabled = disabled;
        }

        if (request.GroupIds is not null)
        {
            await SetGroupsAsync(db, user, request.GroupIds, ct);
        }

        audit.Record("user.update", "user", user.Id, before, user.ToDto());
        await db.SaveChangesAsync(ct);
        return user.ToDto();
    }

    /// <summary>Replaces a user's groups; every id must name a group of the same tenant.</summary>
    private static async Task SetGroupsAsync(PortalDbContext db, User user, IReadOnlyList<Guid>? groupIds, CancellationToken ct)
    {
        var wanted = groupIds?.Distinct().ToList() ?? [];
        var known = await db.Groups.Where(g => wanted.Contains(g.Id)).Select(g => g.Id).ToListAsync(ct);
        var missing = wanted.FindIndex(g => !known.Contains(g));
        if (missing >= 0)
        {
            throw PortalException.Invalid($"groupIds[{missing}]", $"No group {wanted[missing]} exists.");
        }

        user.Memberships.RemoveAll(m => !wanted.Contains(m.GroupId));
        foreach (var groupId in wanted.Where(g => user.Memberships.All(m => m.GroupId != g)))
        {
            user.Memberships.Add(new GroupMembership { UserId = user.Id, GroupId = groupId });
        }
    }

    private static async Task<IResult> DeleteUserAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var user = await FindUserAsync(db, id, ct);
        // Rules name users by email; deleting one would silently detach them.
        if (await PolicyValidation.FindRuleNamingAsync(db, c => c.Users, user.Email, ct) is { } rule)
        {
            throw PortalException.Conflict($"The user '{user.Email}' is named by {rule}; change the rule first.");
        }

        db.Users.Remove(user);
        audit.Record("user.delete", "user", user.Id, user.ToDto(), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    private static async Task<Page<GroupDto>> ListGroupsAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Groups.AsNoTracking().PageAsync(g => g.Id, cursor, limit, g => g.ToDto(), ct);

    private static async Task<GroupDto> GetGroupAsync(Guid id, PortalDbContext db, CancellationToken ct) =>
        (await FindGroupAsync(db, id, ct)).ToDto();

    private static async Task<Group> FindGroupAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Groups.FirstOrDefaultAsync(g => g.Id == id, ct) ?? throw PortalException.NotFound("Group");

    private static async Task<IResult> CreateGroupAsync(CreateGroupRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var name = Validate.Name(request.Name, "name");
        if (await db.Groups.AnyAsync(g => g.Name == name, ct))
        {
            throw PortalException.Conflict($"A group named '{name}' already exists.", "name");
        }

        var group = new Group
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = caller.TenantId,
            Name = name,
            Description = Validate.Text(request.Description, "description"),
            CreatedAt = time.GetUtcNow(),
        };
        db.Groups.Add(group);
        audit.Record("group.create", "group", group.Id, null, group.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/groups/{group.Id}", group.ToDto());
    }

    private static async Task<GroupDto> UpdateGroupAsync(Guid id, UpdateGroupRequest request, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var group = await FindGroupAsync(db, id, ct);
        var before = group.ToDto();
        if (request.Name is not null)
        {
            var name = Validate.Name(request.Name, "name");
            if (name != group.Name && await db.Groups.AnyAsync(g => g.Name == name, ct))
            {
                throw PortalException.Conflict($"A group named '{name}' already exists.", "name");
            }

            if (name != group.Name && await PolicyValidation.FindRuleNamingAsync(db, c => c.Groups, group.Name, ct) is { } rule)
            {
                throw PortalException.Conflict($"The group '{group.Name}' is named by {rule}; change the rule before renaming it.", "name");
            }

            group.Name = name;
        }

        if (request.Description is not null)
        {
            group.Description = Validate.Text(request.Description, "description");
        }

        audit.Record("group.update", "group", group.Id, before, group.ToDto());
        await db.SaveChangesAsync(ct);
        return group.ToDto();
    }

    private static async Task<IResult> DeleteGroupAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var group = await FindGroupAsync(db, id, ct);
        if (await PolicyValidation.FindRuleNamingAsync(db, c => c.Groups, group.Name, ct) is { } rule)
        {
            throw PortalException.Conflict($"The group '{group.Name}' is named by {rule}; change the rule first.");
        }

        db.Groups.Remove(group);
        audit.Record("group.delete", "group", group.Id, group.ToDto(), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
