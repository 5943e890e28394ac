using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Enrollment;

/// <summary>Enrollment tokens (devices) and provisioning keys (edges, connectors) of the caller's tenant.</summary>
internal static class EnrollmentSecretEndpoints
{
    /// <summary>Prefix of a device enrollment token.</summary>
    public const string TokenPrefix = "ghe";

    /// <summary>
    /// Prefix of a provisioning key. Not <c>ghp</c>, which it was until 2026-12-06 (shared with proxy passwords):
    /// that is GitHub's personal access token prefix. Keys issued then still work: only their hash is compared.
    /// </summary>
    public const string KeyPrefix = "ghk";

    public static RouteGroupBuilder MapEnrollmentSecrets(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/enrollment-tokens").WithTags("enrollment");
        tokens.MapGet("/", ListTokensAsync);
        tokens.MapPost("/", CreateTokenAsync).RequireAuthorization(AuthPolicies.Write);
        tokens.MapDelete("/{id:guid}", RevokeTokenAsync).RequireAuthorization(AuthPolicies.Write);

        var keys = api.MapGroup("/provisioning-keys").WithTags("enrollment");
        keys.MapGet("/", ListKeysAsync);
        keys.MapPost("/", CreateKeyAsync).RequireAuthorization(AuthPolicies.Write);
        keys.MapDelete("/{id:guid}", RevokeKeyAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<Page<EnrollmentTokenDto>> ListTokensAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Set<EnrollmentToken>().AsNoTracking().PageAsync(t => t.Id, cursor, limit, t => t.ToDto(), ct);

    private static async Task<IResult> CreateTokenAsync(CreateEnrollmentTokenRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var hours = request.ExpiresInHours ?? EnrollmentLimits.DefaultTokenHours;
        if (hours is < 1 or > EnrollmentLimits.MaxTokenHours)
        {
            throw PortalException.Invalid("expiresInHours", $"expiresInHours must be between 1 and {EnrollmentLimits.MaxTokenHours} (30 days).");
        }

        var maxUses = ValidateMaxUses(request.MaxUses);
        if (request.UserId is { } userId && !await db.Users.AnyAsync(u => u.Id == userId, ct))
        {
            throw PortalException.Invalid("userId", $"No user {userId} exists.");
        }

        var now = time.GetUtcNow();
        var secret = PasswordHasher.NewToken(TokenPrefix);
        var token = new EnrollmentToken
        {
            Id = Guid.CreateVersion7(now),
            TenantId = caller.TenantId,
            Description = Validate.Text(request.Description, "description"),
            UserId = request.UserId,
            TokenHash = PasswordHasher.HashToken(secret),
            CreatedAt = now,
            ExpiresAt = now.AddHours(hours),
            MaxUses = maxUses,
        };
        db.Set<EnrollmentToken>().Add(token);
        audit.Record("enrollment-token.create", "enrollment-token", token.Id, null, token.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/enrollment-tokens/{token.Id}", new CreateEnrollmentTokenResponse(token.ToDto(), secret));
    }

    private static async Task<IResult> RevokeTokenAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var token = await db.Set<EnrollmentToken>().FirstOrDefaultAsync(t => t.Id == id, ct) ?? throw PortalException.NotFound("Enrollment token");
        if (!token.Revoked)
        {
            var before = token.ToDto();
            token.Revoked = true;
            audit.Record("enrollment-token.revoke", "enrollment-token", token.Id, before, token.ToDto());
            await db.SaveChangesAsync(ct);
        }

        return Results.NoContent();
    }

    private static async Task<Page<ProvisioningKeyDto>> ListKeysAsync(PortalDbContext db, string? cursor, int? limit, CancellationToken ct) =>
        await db.Set<ProvisioningKey>().AsNoTracking().PageAsync(k => k.Id, cursor, limit, k => k.ToDto(), ct);

    private static async Task<IResult> CreateKeyAsync(CreateProvisioningKeyRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var name = Validate.Name(request.Name, "name");
        var kind = Validate.OneOf(request.Kind, "kind", ProvisioningKinds.All);
        var groupId = kind switch
        {
            ProvisioningKinds.Connector => request.ConnectorGroupId is { } g && g != Guid.Empty
                ? g
                : throw PortalException.Invalid("connectorGroupId", "A connector provisioning key must name its connector group (connectorGroupId)."),
            _ => request.ConnectorGroupId is null
                ? (Guid?)null
                : throw PortalException.Invalid("connectorGroupId", "Only connector provisioning keys name a connector group."),
        };
        if (groupId is { } connectorGroup && !await db.Set<AppSegments.ConnectorGroup>().AnyAsync(g => g.Id == connectorGroup, ct))
        {
            throw PortalException.Invalid("connectorGroupId", $"No connector group {connectorGroup} exists.");
        }

        var days = request.ExpiresInDays ?? EnrollmentLimits.DefaultKeyDays;
        if (days is < 1 or > EnrollmentLimits.MaxKeyDays)
        {
            throw PortalException.Invalid("expiresInDays", $"expiresInDays must be between 1 and {EnrollmentLimits.MaxKeyDays}.");
        }

        var maxUses = ValidateMaxUses(request.MaxUses);
        var now = time.GetUtcNow();
        var secret = PasswordHasher.NewToken(KeyPrefix);
        var key = new ProvisioningKey
        {
            Id = Guid.CreateVersion7(now),
            TenantId = caller.TenantId,
            Name = name,
            Kind = kind,
            ConnectorGroupId = groupId,
            KeyHash = PasswordHasher.HashToken(secret),
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
            MaxUses = maxUses,
        };
        db.Set<ProvisioningKey>().Add(key);
        audit.Record("provisioning-key.create", "provisioning-key", key.Id, null, key.ToDto());
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/provisioning-keys/{key.Id}", new CreateProvisioningKeyResponse(key.ToDto(), secret));
    }

    private static async Task<IResult> RevokeKeyAsync(Guid id, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var key = await db.Set<ProvisioningKey>().FirstOrDefaultAsync(k => k.Id == id, ct) ?? throw PortalException.NotFound("Provisioning key");
        if (!key.Revoked)
        {
            var before = key.ToDto();
            key.Revoked = true;
            audit.Record("provisioning-key.revoke", "provisioning-key", key.Id, before, key.ToDto());
            await db.SaveChangesAsync(ct);
        }

        return Results.NoContent();
    }

    private static int ValidateMaxUses(int? requested)
    {
        var maxUses = requested ?? 1;
        return maxUses is >= 1 and <= EnrollmentLimits.MaxUses
            ? maxUses
            : throw PortalException.Invalid("maxUses", $"maxUses must be between 1 and {EnrollmentLimits.MaxUses}.");
    }
}
