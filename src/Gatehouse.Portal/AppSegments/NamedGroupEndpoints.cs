using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Policies;
using Gatehouse.Portal.Storage;
using Gatehouse.Wire.Api;
using Gatehouse.Wire.Policy;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.AppSegments;

/// <summary>A named, described set that app segments refer to (segment groups, connector groups).</summary>
public interface INamedGroup : ITenantOwned
{
    /// <summary>Stable id.</summary>
    Guid Id { get; set; }

    /// <summary>Unique within the tenant.</summary>
    string Name { get; set; }

    /// <summary>Free text.</summary>
    string Description { get; set; }

    /// <summary>When the group was created.</summary>
    DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// One set of CRUD routes for every kind of named group: names unique per tenant, every change
/// audited, and a group still used (by an app segment, say) cannot be deleted, nor one that rules name by
/// <paramref name="namedIn"/> renamed or deleted.
/// </summary>
internal sealed class NamedGroupEndpoints<TGroup, TDto>(
    string path,
    string kind,
    string label,
    Func<TGroup> create,
    Func<TGroup, TDto> toDto,
    Func<PortalDbContext, Guid, CancellationToken, Task<string?>> usedBy,
    Func<PolicyCriteria, IReadOnlyList<string>?>? namedIn = null)
    where TGroup : class, INamedGroup
{
    public void Map(RouteGroupBuilder api)
    {
        var routes = api.MapGroup($"/{path}").WithTags(path);
        routes.MapGet("/", ListAsync);
        routes.MapGet("/{id:guid}", async (Guid id, PortalDbContext db, CancellationToken ct) => toDto(await FindAsync(db, id, ct)));
        routes.MapPost("/", CreateAsync).RequireAuthorization(AuthPolicies.Write);
        routes.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AuthPolicies.Write);
        routes.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AuthPolicies.Write);
    }

    private async Task<Page<TDto>> ListAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Set<TGroup>().AsNoTracking().PageAsync(g => g.Id, cursor, limit, toDto, ct);

    private async Task<TGroup> FindAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Set<TGroup>().FirstOrDefaultAsync(g => g.Id == id, ct) ?? throw PortalException.NotFound(Capitalised(label));

    private async Task<string> UniqueNameAsync(PortalDbContext db, string? requested, string? current, CancellationToken ct)
    {
        var name = Validate.Name(requested, "name");
        if (name != current && await db.Set<TGroup>().AnyAsync(g => g.Name == name, ct))
        {
            throw PortalException.Conflict($"A {label} named '{name}' already exists.", "name");
        }

        return name;
    }

    private async Task<IResult> CreateAsync(NamedObjectRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var group = create();
        group.Id = Guid.CreateVersion7(time.GetUtcNow());
        group.TenantId = caller.TenantId;
        group.Name = await UniqueNameAsync(db, request.Name, null, ct);
        group.Description = Validate.Text(request.Description, "description");
        group.CreatedAt = time.GetUtcNow();
        db.Set<TGroup>().Add(group);
        audit.Record($"{kind}.create", kind, group.Id, null, toDto(group));
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/{path}/{group.Id}", toDto(group));
    }

    private async Task<TDto> UpdateAsync(Guid id, NamedObjectRequest request, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var group = await FindAsync(db, id, ct);
        var before = toDto(group);
        var name = await UniqueNameAsync(db, request.Name, group.Name, ct);
        if (name != group.Name && await RuleNamingAsync(db, group.Name, ct) is { } rule)
        {
            // Renamed, it would leave the rule naming a group that no longer exists: a block rule would stop blocking.
            throw PortalException.Conflict($"The {label} '{group.Name}' is named by {rule}; change the rule before renaming it.", "name");
        }

        group.Name = name;
        group.Description = Validate.Text(request.Description, "description");
        audit.Record($"{kind}.update", kind, group.Id, before, toDto(group));
        await db.SaveChangesAsync(ct);
        return toDto(group);
    }

    private async Task<IResult> DeleteAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var group = await FindAsync(db, id, ct);
        if (await usedBy(db, id, ct) is { } user)
        {
            throw PortalException.Conflict($"The {label} '{group.Name}' is used by {user}.");
        }

        if (await RuleNamingAsync(db, group.Name, ct) is { } rule)
        {
            throw PortalException.Conflict($"The {label} '{group.Name}' is named by {rule}; change the rule first.");
        }

        db.Set<TGroup>().Remove(group);
        audit.Record($"{kind}.delete", kind, group.Id, toDto(group), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    private async Task<string?> RuleNamingAsync(PortalDbContext db, string name, CancellationToken ct) =>
        namedIn is null ? null : await PolicyValidation.FindRuleNamingAsync(db, namedIn, name, ct);

    private static string Capitalised(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
