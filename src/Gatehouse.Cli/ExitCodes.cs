namespace Gatehouse.Cli;

/// <summary>
/// The process exit codes of <c>gatehouse</c>. They are part of the command line's contract
/// (documented in <c>docs/cli.md</c>): scripts rely on them, so a value never changes meaning.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;
    /// <summary>The command failed: a server error (5xx) or anything not covered below.</summary>
    public const int Failed = 1;
    /// <summary>The command line is wrong: unknown command or option, missing argument.</summary>
    public const int Usage = 2;
    /// <summary>Not signed in, or the role, scope or CSRF token does not allow the call (401, 403).</summary>
    public const int NotAuthorized = 3;
    /// <summary>The object does not exist (404), or a name or email did not resolve.</summary>
    public const int NotFound = 4;
    /// <summary>The change conflicts with the current state (409), for example a duplicate name.</summary>
    public const int Conflict = 5;
    /// <summary>The portal cannot be reached: connection refused, name not resolved, TLS failure, timeout.</summary>
    public const int Unreachable = 6;
    /// <summary>The input was refused (400, 413), or a local file could not be read.</summary>
    public const int BadInput = 7;

    /// <summary>The exit code for an HTTP status the portal answered with.</summary>
    public static int FromStatus(int status) => status switch
    {
        400 or 413 => BadInput,
        401 or 403 => NotAuthorized,
        404 => NotFound,
        409 => Conflict,
        _ => Failed,
    };
}
