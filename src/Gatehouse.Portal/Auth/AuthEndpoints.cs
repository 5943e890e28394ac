using Gatehouse.Portal.Admins;
using Gatehouse.Portal.Api;
using Gatehouse.Portal.Audit;
using Gatehouse.Portal.Hosting;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.EntityFrameworkCore;

namespace Gatehouse.Portal.Auth;

/// <summary>Sign-in, sign-out, who-am-I and password change.</summary>
internal static class AuthEndpoints
{
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(12);

    /// <summary>Passwords shorter than this are refused.</summary>
    public const int MinimumPasswordLength = 12;

    public static RouteGroupBuilder MapAuth(this RouteGroupBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("auth");
        auth.MapPost("/login", LoginAsync).AllowAnonymous().RequireRateLimiting(SignInRateLimit.Policy);
        auth.MapPost("/logout", LogoutAsync).RequireAuthorization(AuthPolicies.Authenticated);
        auth.MapGet("/whoami", WhoAmIAsync).RequireAuthorization(AuthPolicies.Authenticated);
        auth.MapPost("/password", ChangePasswordAsync).RequireAuthorization(AuthPolicies.Authenticated);
        return api;
    }

    private static async Task<LoginResponse> LoginAsync(
        LoginRequest request, HttpContext http, PortalDbContext db, TenantScope scope, TimeProvider time, ILogger<LoginRequest> logger, CancellationToken ct)
    {
        var email = (request.Email ?? "").Trim().ToLowerInvariant();
        var admin = await db.Admins.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Email == email, ct);
        // Hash even for unknown emails so that timing does not tell which emails exist.
        var ok = PasswordHasher.Verify(request.Password ?? "", admin?.PasswordHash ?? DummyHash.Value);
        if (admin is null || !ok)
        {
            PortalLog.SignInFailed(logger, email, http.Connection.RemoteIpAddress?.ToString());
            throw new PortalException(PortalErrorKind.Unauthenticated, "The email or password is wrong.");
        }

        scope.Enter(admin.TenantId);
        var now = time.GetUtcNow();
        var cookie = PasswordHasher.NewToken("ghw"); // not ghs: GitHub's server-to-server token prefix
        var csrf = PasswordHasher.NewToken("ghc");
        var session = new AdminSession
        {
            Id = Guid.CreateVersion7(now),
            TenantId = admin.TenantId,
            AdminId = admin.Id,
            TokenHash = PasswordHasher.HashToken(cookie),
            CsrfTokenHash = PasswordHasher.HashToken(csrf),
            CreatedAt = now,
            ExpiresAt = now + SessionLifetime,
        };
        db.AdminSessions.Add(session);
        await db.AdminSessions.Where(s => s.AdminId == admin.Id && s.ExpiresAt < now).ExecuteDeleteAsync(ct);
        await db.SaveChangesAsync(ct);

        http.Response.Cookies.Append(AdminAuthenticationHandler.SessionCookie, cookie, new CookieOptions
        {
            HttpOnly = true,
            Secure = true,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            Expires = session.ExpiresAt,
        });
        PortalLog.SignedIn(logger, email);
        return new LoginResponse(admin.ToDto(), admin.TenantId, csrf, session.ExpiresAt);
    }

    private static async Task<IResult> LogoutAsync(HttpContext http, Caller caller, PortalDbContext db, CancellationToken ct)
    {
        if (caller.SessionId is { } id)
        {
            await db.AdminSessions.Where(s => s.Id == id).ExecuteDeleteAsync(ct);
        }

        http.Response.Cookies.Delete(AdminAuthenticationHandler.SessionCookie);
        return Results.NoContent();
    }

    private static async Task<WhoAmIResponse> WhoAmIAsync(Caller caller, PortalDbContext db, CancellationToken ct)
    {
        var admin = await db.Admins.SingleAsync(a => a.Id == caller.AdminId, ct);
        var tenant = await db.Tenants.SingleAsync(t => t.Id == caller.TenantId, ct);
        return new WhoAmIResponse(admin.ToDto(), tenant.Id, tenant.Name, caller.Method, caller.Scopes);
    }

    private static async Task<IResult> ChangePasswordAsync(ChangePasswordRequest request, Caller caller, PortalDbContext db, AuditLog audit, CancellationToken ct)
    {
        var admin = await db.Admins.SingleAsync(a => a.Id == caller.AdminId, ct);
        if (!PasswordHasher.Verify(request.CurrentPassword ?? "", admin.PasswordHash))
        {
            throw PortalException.Invalid("currentPassword", "The current password is wrong.");
        }

        CheckStrength(request.NewPassword, "newPassword");
        admin.PasswordHash = PasswordHasher.Hash(request.NewPassword);
        admin.MustChangePassword = false;
        audit.Record("admin.password", "admin", admin.Id, null, null);
        await db.SaveChangesAsync(ct);
        return Results.NoContent();
    }

    /// <summary>Refuses passwords that are too short to resist guessing.</summary>
    public static void CheckStrength(string? password, string field)
    {
        if (password is null || password.Length < MinimumPasswordLength)
        {
            throw PortalException.Invalid(field, $"The password must be at least {MinimumPasswordLength} characters.");
        }
    }

    private static class DummyHash
    {
        public static readonly string Value = PasswordHasher.Hash(Guid.NewGuid().ToString());
    }
}
