using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Auth;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Users;

/// <summary>
/// A user's credentials for the agentless forward proxy: <c>/users/{id}/proxy-credentials</c>. The password
/// is made here, shown once in the answer to its creation, and kept only as its SHA-256.
/// </summary>
internal static class ProxyCredentialEndpoints
{
    /// <summary>The longest description accepted.</summary>
    public const int MaxDescriptionLength = 200;

    /// <summary>
    /// Prefix of every proxy password: tells secret scanners and people what leaked. Not <c>ghp</c>, which it was
    /// until 2026-12-06: that is GitHub's personal access token prefix, so scanners reported a leaked proxy
    /// password as a GitHub token. Passwords issued then still work: the edge checks the whole password's hash.
    /// </summary>
    public const string PasswordPrefix = "ghx";

    public static RouteGroupBuilder MapProxyCredentials(this RouteGroupBuilder api)
    {
        var credentials = api.MapGroup("/users/{id:guid}/proxy-credentials").WithTags("users");
        credentials.MapGet("/", ListAsync);
        credentials.MapPost("/", CreateAsync).RequireAuthorization(AuthPolicies.Write);
        credentials.MapDelete("/{credentialId:guid}", DeleteAsync).RequireAuthorization(AuthPolicies.Write);
        return api;
    }

    private static async Task<Page<ProxyCredentialDto>> ListAsync(Guid id, PortalDbContext db, string? cursor, int? limit, CancellationToken ct)
    {
        var user = await FindUserAsync(db, id, ct);
        return await db.Set<ProxyCredential>().AsNoTracking().Where(c => c.UserId == user.Id)
            .PageAsync(c => c.Id, cursor, limit, c => c.ToDto(user.Email), ct);
    }

    private static async Task<IResult> CreateAsync(
        Guid id, CreateProxyCredentialRequest request, Caller caller, PortalDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var user = await FindUserAsync(db, id, ct);
        var password = PasswordHasher.NewToken(PasswordPrefix);
        var credential = new ProxyCredential
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()),
            TenantId = caller.TenantId,
            UserId = user.Id,
            Description = Validate.Text(request.Description, "description", MaxDescriptionLength),
            PasswordSha256 = PasswordHasher.HashToken(password),
            CreatedAt = time.GetUtcNow(),
        };
        db.Set<ProxyCredential>().Add(credential);
        var view = credential.ToDto(user.Email);
        audit.Record("proxy-credential.create", "proxy-credential", credential.Id, null, view);
        await db.SaveChangesAsync(ct);
        return Results.Created($"/api/v1/users/{user.Id}/proxy-credentials/{credential.Id}", new CreateProxyCredentialResponse(view, password));
    }

    private static async Task<IResult> DeleteAsync(Guid id, Guid credentialId, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var user = await FindUserAsync(db, id, ct);
        var credential = await db.Set<ProxyCredential>().FirstOrDefaultAsync(c => c.Id == credentialId && c.UserId == user.Id, ct)
            ?? throw PortalException.NotFound("Proxy credential");
        db.Set<ProxyCredential>().Remove(credential);
        audit.Record("proxy-credential.delete", "proxy-credential", credential.Id, credential.ToDto(user.Email), null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    private static async Task<User> FindUserAsync(PortalDbContext db, Guid id, CancellationToken ct) =>
        await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct) ?? throw PortalException.NotFound("User");
}
