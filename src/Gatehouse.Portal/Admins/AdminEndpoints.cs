using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Admins;

/// <summary>Admins of the caller's tenant (owners manage them) and the caller's own API tokens.</summary>
internal static class AdminEndpoints
{
    public static RouteGroupBuilder MapAdmins(this RouteGroupBuilder api)
    {
        var admins = api.MapGroup("/admins").WithTags("admins");
        admins.MapGet("/", ListAsync);
        admins.MapGet("/{id:guid}", GetAsync);
        admins.MapPost("/", CreateAsync).RequireAuthorization(AuthPolicies.Owner);
        admins.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AuthPolicies.Owner);

        var tokens = api.MapGroup("/tokens").WithTags("tokens");
        tokens.MapGet("/", ListTokensAsync);
        tokens.MapPost("/", CreateTokenAsync);
        tokens.MapDelete("/{id:guid}", RevokeTokenAsync);
        return api;
    }

    private static async Task<Page<AdminDto>> ListAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Admins.AsNoTracking().PageAsync(a => a.Id, cursor, limit, a => a.ToDto(), ct);

    private static async Task<AdminDto> GetAsync(Guid id, PortalDbContext db, CancellationToken ct) =>
        (await db.Admins.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, ct) ?? throw PortalException.NotFound("Admin")).ToDto();

    private static async Task<IResult> CreateAsync(CreateAdminRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var email = Validate.Email(request.Email, "email");
        var role = Validate.OneOf(request.Role, "role", AdminRoles.All);
        if (await db.Admins.IgnoreQueryFilters().AnyAsync(a => a.Email == email, ct))
        {
            throw PortalException.Conflict($"An admin with the email '{email}' already exists.", "email");
        }

        var password = PasswordHasher.NewToken("otp");
        var admin = new Admin
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = caller.TenantId,
            Email = email,
            Role = role,
            PasswordHash = PasswordHasher.Hash(password),
            MustChangePassword = true,
            CreatedAt = time.GetUtcNow(),
        };
        db.Admins.Add(admin);
        audit.Record("admin.create", "admin", admin.Id, null, admin.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/admins/{admin.Id}", new CreateAdminResponse(admin.ToDto(), password));
    }

    private static async Task<IResult> DeleteAsync(Guid id, Caller caller, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var admin = await db.Admins.FirstOrDefaultAsync(a => a.Id == id, ct) ?? throw PortalException.NotFound("Admin");
        if (admin.Id == caller.AdminId)
        {
            throw PortalException.Conflict("You cannot delete yourself; ask another owner.");
        }

        if (admin.Role == AdminRoles.Owner && !await db.Admins.AnyAsync(a => a.Role == AdminRoles.Owner && a.Id != id, ct))
        {
            throw PortalException.Conflict("A tenant keeps at least one owner.");
        }

        db.Admins.Remove(admin);
        audit.Record("admin.delete", "admin", admin.Id, admin.ToDto(), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    private static async Task<Page<ApiTokenDto>> ListTokensAsync(Caller caller, PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.ApiTokens.AsNoTracking().Where(t => t.AdminId == caller.AdminId).PageAsync(t => t.Id, cursor, limit, t => t.ToDto(), ct);

    private static async Task<IResult> CreateTokenAsync(CreateApiTokenRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var name = Validate.Name(request.Name, "name");
        if (request.Scopes is null || request.Scopes.Count == 0)
        {
            throw PortalException.Invalid("scopes", "scopes must name at least one of read, write.");
        }

        var scopes = request.Scopes.Select((s, i) => Validate.OneOf(s, $"scopes[{i}]", TokenScopes.All)).Distinct().Order(StringComparer.Ordinal).ToList();
        if (scopes.Except(caller.Scopes).FirstOrDefault() is { } extra)
        {
            throw PortalException.Forbidden($"A token cannot grant the '{extra}' scope its creator does not hold.");
        }

        var days = request.ExpiresInDays ?? 90;
        if (days is < 1 or > 366)
        {
            throw PortalException.Invalid("expiresInDays", "expiresInDays must be between 1 and 366.");
        }

        var now = time.GetUtcNow();
        var secret = PasswordHasher.NewToken("gh");
        var token = new ApiToken
        {
            Id = Guid.CreateVersion7(now),
            TenantId = caller.TenantId,
            AdminId = caller.AdminId,
            Name = name,
            TokenHash = PasswordHasher.HashToken(secret),
            Scopes = string.Join(' ', scopes),
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
        };
        db.ApiTokens.Add(token);
        audit.Record("token.create", "token", token.Id, null, token.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/tokens/{token.Id}", new CreateApiTokenResponse(token.ToDto(), secret));
    }

    private static async Task<IResult> RevokeTokenAsync(Guid id, Caller caller, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        // Owners may revoke any token of their tenant; others only their own.
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == id && (t.AdminId == caller.AdminId || caller.Role == AdminRoles.Owner), ct)
            ?? throw PortalException.NotFound("API token");
        var before = token.ToDto();
        token.Revoked = true;
        audit.Record("token.revoke", "token", token.Id, before, token.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }
}
