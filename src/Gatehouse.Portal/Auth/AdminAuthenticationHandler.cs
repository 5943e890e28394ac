using System.Security.Claims;
using System.Text.Encodings.Web;
using Gatehouse.Portal.Storage;
using Gatehouse.Trust.Secrets;
using Gatehouse.Wire.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gatehouse.Portal.Auth;

/// <summary>
/// Authenticates admins by API token (<c>Authorization: Bearer gh_…</c>) or by session cookie.
/// A session may change things only with its CSRF token in <c>X-CSRF-Token</c>; a token needs no
/// CSRF token because browsers never send it on their own.
/// </summary>
internal sealed class AdminAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    PortalDbContext db,
    TenantScope scope,
    Caller caller,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "gatehouse-admin";
    public const string SessionCookie = "gatehouse_session";
    public const string CsrfHeader = "X-CSRF-Token";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var now = time.GetUtcNow();
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return await AuthenticateTokenAsync(authorization["Bearer ".Length..].Trim(), now);
        }

        if (Request.Cookies.TryGetValue(SessionCookie, out var session) && !string.IsNullOrEmpty(session))
        {
            return await AuthenticateSessionAsync(session, now);
        }

        return AuthenticateResult.NoResult();
    }

    private async Task<AuthenticateResult> AuthenticateTokenAsync(string token, DateTimeOffset now)
    {
        var hash = PasswordHasher.HashToken(token);
        var found = await db.ApiTokens.IgnoreQueryFilters().FirstOrDefaultAsync(t => t.TokenHash == hash, Context.RequestAborted);
        if (found is null || found.Revoked || found.ExpiresAt <= now)
        {
            return AuthenticateResult.Fail("The API token is unknown, revoked or expired.");
        }

        var admin = await db.Admins.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Id == found.AdminId, Context.RequestAborted);
        if (admin is null)
        {
            return AuthenticateResult.Fail("The API token's admin no longer exists.");
        }

        if (found.LastUsedAt is null || now - found.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            // Bounded write rate: at most one update a minute per token, not one per request.
            await db.ApiTokens.IgnoreQueryFilters().Where(t => t.Id == found.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }

        return Success(admin, "token", found.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), null);
    }

    private async Task<AuthenticateResult> AuthenticateSessionAsync(string cookie, DateTimeOffset now)
    {
        var hash = PasswordHasher.HashToken(cookie);
        var session = await db.AdminSessions.IgnoreQueryFilters().FirstOrDefaultAsync(s => s.TokenHash == hash, Context.RequestAborted);
        if (session is null || session.ExpiresAt <= now)
        {
            return AuthenticateResult.Fail("The session has ended; sign in again.");
        }

        if (!HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method) && !HttpMethods.IsOptions(Request.Method))
        {
            var csrf = Request.Headers[CsrfHeader].ToString();
            if (string.IsNullOrEmpty(csrf) || PasswordHasher.HashToken(csrf) != session.CsrfTokenHash)
            {
                return AuthenticateResult.Fail("A change made with a session cookie needs its CSRF token in the X-CSRF-Token header.");
            }
        }

        var admin = await db.Admins.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Id == session.AdminId, Context.RequestAborted);
        return admin is null
            ? AuthenticateResult.Fail("The session's admin no longer exists.")
            : Success(admin, "session", TokenScopes.All, session.Id);
    }

    private AuthenticateResult Success(Admins.Admin admin, string method, IReadOnlyList<string> scopes, Guid? sessionId)
    {
        caller.Set(admin, method, scopes, sessionId);
        scope.Enter(admin.TenantId);

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, admin.Id.ToString()),
            new(ClaimTypes.Name, admin.Email),
            new(GatehouseClaims.Role, admin.Role),
            new(GatehouseClaims.Tenant, admin.TenantId.ToString()),
            new(GatehouseClaims.Operator, admin.IsOperator ? "true" : "false"),
        };
        // An admin with a one-time password gets no scopes until it is changed.
        if (!admin.MustChangePassword)
        {
            claims.AddRange(scopes.Select(s => new Claim(GatehouseClaims.Scope, s)));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await WriteProblemAsync(401, "unauthenticated", "Sign in first.",
            result.Failure?.Message ?? "This call needs a session cookie or an API token (Authorization: Bearer …).");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(403, "forbidden", "Not allowed.",
            caller.MustChangePassword
                ? "Change the one-time password first (POST /api/v1/auth/password)."
                : "Your role or token scopes do not allow this call.");

    private Task WriteProblemAsync(int status, string type, string title, string detail)
    {
        Response.StatusCode = status;
        return Results.Problem(detail: detail, statusCode: status, title: title, type: $"https://gatehouse.dev/problems/{type}").ExecuteAsync(Context);
    }
}
