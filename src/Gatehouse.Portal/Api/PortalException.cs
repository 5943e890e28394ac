namespace Gatehouse.Portal.Api;

/// <summary>Who is to blame for a refused API call, and so which HTTP status answers it.</summary>
public enum PortalErrorKind
{
    /// <summary>The input is wrong (400).</summary>
    Invalid,
    /// <summary>No credentials, or bad ones (401).</summary>
    Unauthenticated,
    /// <summary>Authenticated but not allowed (403).</summary>
    Forbidden,
    /// <summary>No such object for this caller (404); also what another tenant's objects look like.</summary>
    NotFound,
    /// <summary>The change clashes with existing state (409).</summary>
    Conflict,
    /// <summary>The input is too large (413).</summary>
    TooLarge,
    /// <summary>The portal or its database failed (503); the caller may retry.</summary>
    Unavailable,
}

/// <summary>The one exception type of the portal's API edge; mapped to RFC 9457 problem details in one place.</summary>
public sealed class PortalException : Exception
{
    /// <summary>Creates a refusal of the given kind.</summary>
    public PortalException(PortalErrorKind kind, string message, string? field = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Field = field;
    }

    /// <summary>Who is to blame.</summary>
    public PortalErrorKind Kind { get; }

    /// <summary>The input field at fault, as a JSON path (for example <c>rules[2].domains[0]</c>), if any.</summary>
    public string? Field { get; }

    /// <summary>True when the same call may succeed later.</summary>
    public bool IsTransient => Kind == PortalErrorKind.Unavailable;

    /// <summary>A 400 for one named field.</summary>
    public static PortalException Invalid(string field, string message) => new(PortalErrorKind.Invalid, message, field);

    /// <summary>A 404 for an object that does not exist for this caller.</summary>
    public static PortalException NotFound(string what) => new(PortalErrorKind.NotFound, $"{what} was not found.");

    /// <summary>A 409.</summary>
    public static PortalException Conflict(string message, string? field = null) => new(PortalErrorKind.Conflict, message, field);

    /// <summary>A 403.</summary>
    public static PortalException Forbidden(string message) => new(PortalErrorKind.Forbidden, message);
}
