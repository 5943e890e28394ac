using System.Net;
using System.Text;

namespace Gatehouse.Wire.Http;

/// <summary>
/// The pages Gatehouse's HTTP proxies answer with (the edge's forward proxy and the agent's local
/// proxy): block page, caution interstitial, errors, the PAC file, and the head of such an answer.
/// </summary>
public static class ProxyPages
{
    /// <summary>The host name of the caution page's continue link; <c>.invalid</c> never resolves, so only this proxy answers it.</summary>
    public const string CautionHost = "caution.gatehouse.invalid";

    /// <summary>The block page: what was blocked, by which rule, why, and the reference to quote.</summary>
    public static string BlockPage(string url, string? rule, string reason, string reference) => Page(
        "Blocked",
        $"""
        <p>Your organisation's policy blocks <code>{E(url)}</code>.</p>
        <dl><dt>Rule</dt><dd>{E(rule ?? "(none)")}</dd><dt>Reason</dt><dd>{E(reason)}</dd><dt>Reference</dt><dd><code>{E(reference)}</code></dd></dl>
        <p>If you need this site for your work, send the reference to your IT team.</p>
        """);

    /// <summary>The caution interstitial with its continue link.</summary>
    public static string CautionPage(string url, string? rule, string continueUrl, string reference) => Page(
        "Caution",
        $"""
        <p>Your organisation asks you to take care with <code>{E(url)}</code>.</p>
        <dl><dt>Rule</dt><dd>{E(rule ?? "(none)")}</dd><dt>Reference</dt><dd><code>{E(reference)}</code></dd></dl>
        <p>Going on is recorded. <a href="{E(continueUrl)}">Continue to the site</a></p>
        """);

    /// <summary>A page for any other refusal or failure.</summary>
    public static string ErrorPage(string title, string detail, string? reference) => Page(
        title,
        $"<p>{E(detail)}</p>" + (reference is null ? string.Empty : $"<p>Reference: <code>{E(reference)}</code></p>"));

    /// <summary>The caution page's continue link for <paramref name="url"/>.</summary>
    public static string ContinueUrl(string url, string token) =>
        $"http://{CautionHost}/continue?url={Uri.EscapeDataString(url)}&token={Uri.EscapeDataString(token)}";

    /// <summary>
    /// The tenant's PAC file: plain host names, <c>.local</c> and loopback go direct, and private address
    /// literals too when <paramref name="privateNetworksDirect"/>; everything else through this proxy.
    /// Browsers fetch it without proxy credentials.
    /// </summary>
    /// <param name="tenantName">Named in its first line.</param>
    /// <param name="proxyAddress">HOST:PORT of the proxy.</param>
    /// <param name="privateNetworksDirect">
    /// True for the edge, which refuses private destinations anyway; false for the agent, whose tunnel
    /// carries private apps given by address.
    /// </param>
    public static string Pac(string tenantName, string proxyAddress, bool privateNetworksDirect = true)
    {
        var builder = new StringBuilder();
        builder.Append("// Gatehouse proxy auto-configuration for tenant ").Append(tenantName.Replace('\n', ' ')).Append('\n');
        builder.Append("function FindProxyForURL(url, host) {\n");
        builder.Append("  if (isPlainHostName(host) || dnsDomainIs(host, \".local\") || host == \"localhost\") return \"DIRECT\";\n");
        if (privateNetworksDirect)
        {
            builder.Append("  if (/^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(host) && (isInNet(host, \"127.0.0.0\", \"255.0.0.0\") || isInNet(host, \"10.0.0.0\", \"255.0.0.0\") ||\n");
            builder.Append("      isInNet(host, \"172.16.0.0\", \"255.240.0.0\") || isInNet(host, \"192.168.0.0\", \"255.255.0.0\"))) return \"DIRECT\";\n");
        }
        else
        {
            builder.Append("  if (/^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(host) && isInNet(host, \"127.0.0.0\", \"255.0.0.0\")) return \"DIRECT\";\n");
        }

        builder.Append("  return \"PROXY ").Append(proxyAddress).Append("\";\n");
        builder.Append("}\n");
        return builder.ToString();
    }

    /// <summary>
    /// The head of an answer the proxy makes itself: status line, content type and length, extra headers
    /// (their values built from rule names and reasons, so line breaks become spaces), and
    /// <c>Connection: close</c> when the connection ends after it.
    /// </summary>
    public static string ResponseHead(int status, string phrase, string contentType, int contentLength, IEnumerable<(string Name, string Value)>? headers, bool close)
    {
        var head = new StringBuilder(256);
        head.Append("HTTP/1.1 ").Append(status).Append(' ').Append(phrase).Append("\r\n");
        head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        head.Append("Content-Length: ").Append(contentLength).Append("\r\n");
        foreach (var (name, value) in headers ?? [])
        {
            head.Append(name).Append(": ").Append(value.Replace('\r', ' ').Replace('\n', ' ')).Append("\r\n");
        }

        if (close)
        {
            head.Append("Connection: close\r\n");
        }

        return head.Append("\r\n").ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Page(string title, string body) =>
        $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{E(title)} · Gatehouse</title>
        <style>body{"{"}font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;color:#222{"}"}dt{"{"}font-weight:bold{"}"}code{"{"}word-break:break-all{"}"}</style></head>
        <body><h1>{E(title)}</h1>
        {body}
        <hr><small>Gatehouse</small></body></html>

        """;
}
