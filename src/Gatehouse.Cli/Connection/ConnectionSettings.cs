using System.Net;

namespace Gatehouse.Cli.Connection;

/// <summary>
/// Where the portal is, how it is trusted and who we are to it. Each piece comes from, in order:
/// a flag, an environment variable, the config file. Credentials from the config file are used
/// only for the portal they were issued by, so a <c>--portal</c> pointing elsewhere never receives them.
/// </summary>
internal sealed record ConnectionSettings(Uri Portal, string? CaFile, bool Insecure, string? Token, SessionCredentials? Session)
{
    /// <summary>Combines flags, environment and config file.</summary>
    public static ConnectionSettings Resolve(string? portalFlag, string? caFileFlag, bool insecureFlag, CliEnvironment environment, CliConfig config)
    {
        var portalText = portalFlag ?? environment.Variable("GATEHOUSE_PORTAL") ?? config.Portal
            ?? throw new CliException(ExitCodes.NotAuthorized,
                "no portal: run `gatehouse login --portal URL …`, or set GATEHOUSE_PORTAL");
        var portal = ParsePortal(portalText);
        var fromConfig = config.Portal is not null && SamePortal(ParsePortal(config.Portal), portal);

        var caFile = caFileFlag ?? environment.Variable("GATEHOUSE_CA_FILE") ?? (fromConfig ? config.CaFile : null);
        var insecure = insecureFlag || (fromConfig && config.Insecure && caFileFlag is null);
        var token = environment.Variable("GATEHOUSE_TOKEN") ?? (fromConfig ? config.Token : null);
        var session = token is null && fromConfig ? config.Session : null;
        return new ConnectionSettings(portal, caFile is null ? null : Path.GetFullPath(caFile), insecure, token, session);
    }

    /// <summary>An absolute http(s) URL; a path under it is kept (a portal behind a reverse proxy).</summary>
    public static Uri ParsePortal(string text)
    {
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new CliException(ExitCodes.Usage, $"portal URL must be https://host[:port], not '{text}'");
        }
        return new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/");
    }

    /// <summary>Plain HTTP is for tests and a portal on this machine; anywhere else it leaks credentials.</summary>
    public bool IsCleartextOverNetwork =>
        Portal.Scheme == Uri.UriSchemeHttp && !Portal.IsLoopback && !(IPAddress.TryParse(Portal.Host, out var ip) && IPAddress.IsLoopback(ip));

    private static bool SamePortal(Uri a, Uri b) => Uri.Compare(a, b, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
}
