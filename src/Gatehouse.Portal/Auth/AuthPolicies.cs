using Gatehouse.Wire.Api;
using Microsoft.AspNetCore.Authorization;

namespace Gatehouse.Portal.Auth;

/// <summary>What each route requires of the caller.</summary>
public static class AuthPolicies
{
    /// <summary>Any signed-in admin, even one that still has to change a one-time password.</summary>
    public const string Authenticated = "authenticated";

    /// <summary>Any admin; a token needs the read or write scope.</summary>
    public const string Read = "read";

    /// <summary>Owner or admin role; a token needs the write scope.</summary>
    public const string Write = "write";

    /// <summary>Owner role; a token needs the write scope.</summary>
    public const string Owner = "owner";

    /// <summary>A portal operator (may create tenants).</summary>
    public const string Operator = "operator";

    internal static void Add(AuthorizationOptions options)
    {
        options.AddPolicy(Authenticated, p => p.RequireAuthenticatedUser());
        options.AddPolicy(Read, p => p.RequireAuthenticatedUser().RequireAssertion(c => HasScope(c, TokenScopes.Read) || HasScope(c, TokenScopes.Write)));
        options.AddPolicy(Write, p => p.RequireAuthenticatedUser().RequireAssertion(c => HasScope(c, TokenScopes.Write) && InRole(c, AdminRoles.Owner, AdminRoles.Admin)));
        options.AddPolicy(Owner, p => p.RequireAuthenticatedUser().RequireAssertion(c => HasScope(c, TokenScopes.Write) && InRole(c, AdminRoles.Owner)));
        options.AddPolicy(Operator, p => p.RequireAuthenticatedUser().RequireAssertion(c => HasScope(c, TokenScopes.Write) && c.User.HasClaim(GatehouseClaims.Operator, "true")));
        options.DefaultPolicy = options.GetPolicy(Read)!;
        options.FallbackPolicy = options.GetPolicy(Read);
    }

    private static bool HasScope(AuthorizationHandlerContext context, string scope) => context.User.HasClaim(GatehouseClaims.Scope, scope);

    private static bool InRole(AuthorizationHandlerContext context, params string[] roles) =>
        context.User.FindFirst(GatehouseClaims.Role)?.Value is { } role && roles.Contains(role);
}

/// <summary>Claim types the portal issues.</summary>
public static class GatehouseClaims
{
    /// <summary>The admin's role.</summary>
    public const string Role = "gatehouse:role";
    /// <summary>One granted scope per claim.</summary>
    public const string Scope = "gatehouse:scope";
    /// <summary>"true" for operators.</summary>
    public const string Operator = "gatehouse:operator";
    /// <summary>The tenant id.</summary>
    public const string Tenant = "gatehouse:tenant";
    /// <summary>The kind of an enrolled party's certificate: <c>device</c>, <c>edge</c> or <c>connector</c>.</summary>
    public const string Kind = "gatehouse:kind";
}
