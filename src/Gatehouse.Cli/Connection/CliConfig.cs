namespace Gatehouse.Cli.Connection;

/// <summary>
/// What <c>gatehouse login</c> remembers: which portal, which CA to trust, and one credential
/// (an API token or a session). Stored as JSON in <c>~/.config/gatehouse/cli.json</c>.
/// </summary>
internal sealed record CliConfig
{
    /// <summary>The portal's base URL, for example <c>https://portal.example.com:7443</c>.</summary>
    public string? Portal { get; init; }

    /// <summary>Absolute path of the PEM file holding the certificate or CA the portal is trusted by.</summary>
    public string? CaFile { get; init; }

    /// <summary>TLS verification was skipped at login; it stays skipped (with a warning) until the next login.</summary>
    public bool Insecure { get; init; }

    /// <summary>An API token (<c>gh_…</c>), sent as <c>Authorization: Bearer</c>.</summary>
    public string? Token { get; init; }

    /// <summary>A session from <c>POST /auth/login</c>.</summary>
    public SessionCredentials? Session { get; init; }
}

/// <summary>A signed-in session: the cookie value and the CSRF token every change must carry.</summary>
internal sealed record SessionCredentials(string Cookie, string CsrfToken, string Email, DateTimeOffset ExpiresAt);
