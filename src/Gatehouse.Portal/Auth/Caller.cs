using Gatehouse.Wire.Api;

namespace Gatehouse.Portal.Auth;

/// <summary>The authenticated admin behind the current request, set once by authentication.</summary>
public sealed class Caller
{
    /// <summary>The admin's id; empty when nobody is signed in.</summary>
    public Guid AdminId { get; private set; }

    /// <summary>The admin's tenant.</summary>
    public Guid TenantId { get; private set; }

    /// <summary>The admin's email, recorded as the actor in the audit log.</summary>
    public string Email { get; private set; } = "";

    /// <summary>One of <see cref="AdminRoles"/>.</summary>
    public string Role { get; private set; } = "";

    /// <summary>Whether the admin runs the portal itself.</summary>
    public bool IsOperator { get; private set; }

    /// <summary><c>session</c> or <c>token</c>.</summary>
    public string Method { get; private set; } = "";

    /// <summary>Scopes granted: all for a session, the token's own for a token.</summary>
    public IReadOnlyList<string> Scopes { get; private set; } = [];

    /// <summary>The session's id, when authenticated by a session.</summary>
    public Guid? SessionId { get; private set; }

    /// <summary>True once authentication has run successfully.</summary>
    public bool IsAuthenticated => AdminId != Guid.Empty;

    /// <summary>A one-time password is still in use.</summary>
    public bool MustChangePassword { get; private set; }

    internal void Set(Admins.Admin admin, string method, IReadOnlyList<string> scopes, Guid? sessionId)
    {
        AdminId = admin.Id;
        TenantId = admin.TenantId;
        Email = admin.Email;
        Role = admin.Role;
        IsOperator = admin.IsOperator;
        Method = method;
        Scopes = scopes;
        SessionId = sessionId;
        MustChangePassword = admin.MustChangePassword;
    }
}
