namespace Gatehouse.Wire.Api;

/// <summary>Admin roles, from most to least powerful.</summary>
public static class AdminRoles
{
    /// <summary>Everything, including managing admins.</summary>
    public const string Owner = "owner";
    /// <summary>Every change except managing admins.</summary>
    public const string Admin = "admin";
    /// <summary>Reads everything, changes nothing.</summary>
    public const string Auditor = "auditor";

    /// <summary>All roles.</summary>
    public static readonly IReadOnlyList<string> All = [Owner, Admin, Auditor];
}

/// <summary>An administrator of one tenant.</summary>
public sealed record AdminDto(Guid Id, string Email, string Role, bool IsOperator, DateTimeOffset CreatedAt);

/// <summary>Adds an admin; the answer carries a one-time password.</summary>
public sealed record CreateAdminRequest(string Email, string Role);

/// <summary>The new admin and its one-time password, shown once.</summary>
public sealed record CreateAdminResponse(AdminDto Admin, string OneTimePassword);

/// <summary>Changes the signed-in admin's password.</summary>
public sealed record ChangePasswordRequest(string CurrentPassword, string NewPassword);

/// <summary>Signs in with email and password (cookie session).</summary>
public sealed record LoginRequest(string Email, string Password);

/// <summary>A session: the CSRF token must accompany every change made with the session cookie.</summary>
public sealed record LoginResponse(AdminDto Admin, Guid TenantId, string CsrfToken, DateTimeOffset ExpiresAt);

/// <summary>Who the caller is.</summary>
public sealed record WhoAmIResponse(AdminDto Admin, Guid TenantId, string TenantName, string AuthenticatedBy, IReadOnlyList<string> Scopes);
