using System.Net;
using System.Text;

namespace Gatehouse.Edge.Proxy;

/// <summary>The pages the forward proxy answers with: block page, caution interstitial, errors and the PAC file.</summary>
internal static class ProxyPages
{
    /// <summary>The host name of the caution page's continue link; <c>.invalid</c> never resolves, so only this proxy answers it.</summary>
    public const string CautionHost = "caution.gatehouse.invalid";

    public static string BlockPage(string url, string? rule, string reason, string reference) => Page(
        "Blocked",
        $"""
        <p>Your organisation's policy blocks <code>{E(url)}</code>.</p>
        <dl><dt>Rule</dt><dd>{E(rule ?? "(none)")}</dd><dt>Reason</dt><dd>{E(reason)}</dd><dt>Reference</dt><dd><code>{E(reference)}</code></dd></dl>
        <p>If you need this site for your work, send the reference to your IT team.</p>
        """);

    public static string CautionPage(string url, string? rule, string continueUrl, string reference) => Page(
        "Caution",
        $"""
        <p>Your organisation asks you to take care with <code>{E(url)}</code>.</p>
        <dl><dt>Rule</dt><dd>{E(rule ?? "(none)")}</dd><dt>Reference</dt><dd><code>{E(reference)}</code></dd></dl>
        <p>Going on is recorded. <a href="{E(continueUrl)}">Continue to the site</a></p>
        """);

    public static string ErrorPage(string title, string detail, string? reference) => Page(
        title,
        $"<p>{E(detail)}</p>" + (reference is null ? string.Empty : $"<p>Reference: <code>{E(reference)}</code></p>"));

    public static string ContinueUrl(string url, string token) =>
        $"http://{CautionHost}/continue?url={Uri.EscapeDataString(url)}&token={Uri.EscapeDataString(token)}";

    /// <summary>
    /// The tenant's PAC file: plain host names, <c>.local</c>, loopback and private address literals go
    /// direct; everything else through this proxy. Browsers fetch it without proxy credentials.
    /// </summary>
    public static string Pac(string tenantName, string proxyAddress)
    {
        var builder = new StringBuilder();
        builder.Append("// Gatehouse proxy auto-configuration for tenant ").Append(tenantName.Replace('\n', ' ')).Append('\n');
        builder.Append("function FindProxyForURL(url, host) {\n");
        builder.Append("  if (isPlainHostName(host) || dnsDomainIs(host, \".local\") || host == \"localhost\") return \"DIRECT\";\n");
        builder.Append("  if (/^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(host) && (isInNet(host, \"127.0.0.0\", \"255.0.0.0\") || isInNet(host, \"10.0.0.0\", \"255.0.0.0\") ||\n");
        builder.Append("      isInNet(host, \"172.16.0.0\", \"255.240.0.0\") || isInNet(host, \"192.168.0.0\", \"255.255.0.0\"))) return \"DIRECT\";\n");
        builder.Append("  return \"PROXY ").Append(proxyAddress).Append("\";\n");
        builder.Append("}\n");
        return builder.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Page(string title, string body) =>
        $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{E(title)} · Gatehouse</title>
        <style>body{"{"}font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;color:#222{"}"}dt{"{"}font-weight:bold{"}"}code{"{"}word-break:break-all{"}"}</style></head>
        <body><h1>{E(title)}</h1>
        {body}
        <hr><small>Gatehouse service edge</small></body></html>

        """;
}
