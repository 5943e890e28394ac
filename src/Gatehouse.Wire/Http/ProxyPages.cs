using System.Net;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Wire.Policy;

namespace Gatehouse.Wire.Http;

/// <summary>
/// The pages Gatehouse's HTTP proxies answer with (the edge's forward proxy and the agent's local
/// proxy): block page, caution interstitial, errors, the PAC file, and the head of such an answer.
/// </summary>
public static class ProxyPages
{
    /// <summary>The host name of the caution page's continue link; <c>.invalid</c> never resolves, so only this proxy answers it.</summary>
    public const string CautionHost = "caution.gatehouse.invalid";

    /// <summary>Loopback, which a PAC file always sends direct.</summary>
    private static readonly IPNetwork Loopback = IPNetwork.Parse("127.0.0.0/8");

    /// <summary>The RFC 1918 networks.</summary>
    private static readonly IPNetwork[] PrivateNetworks = [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16")];

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
    /// The tenant's PAC file: plain host names, <c>.local</c> and loopback (IPv4 and <c>::1</c>) go direct, and private address
    /// literals too when <paramref name="privateNetworksDirect"/>, except those in <paramref name="privateApps"/>;
    /// everything else through this proxy. Browsers fetch it without proxy credentials.
    /// </summary>
    /// <param name="tenantName">Named in its first line.</param>
    /// <param name="proxyAddress">HOST:PORT of the proxy.</param>
    /// <param name="privateNetworksDirect">
    /// True for the edge, which does not serve private addresses of its own; false for the agent, whose tunnel
    /// carries private apps given by address.
    /// </param>
    /// <param name="privateApps">
    /// The networks of the tenant's app segments with their ports: IPv4 literals in them, on those ports, go through
    /// the proxy, which hands them to a connector. (IPv6 literals always do: PAC's <c>isInNet</c> knows only IPv4.)
    /// </param>
    public static string Pac(string tenantName, string proxyAddress, bool privateNetworksDirect = true, IEnumerable<NetworkPorts>? privateApps = null)
    {
        var proxy = $"\"PROXY {proxyAddress}\"";
        var builder = new StringBuilder();
        builder.Append("// Gatehouse proxy auto-configuration for tenant ").Append(tenantName.Replace('\n', ' ')).Append('\n');
        builder.Append("function FindProxyForURL(url, host) {\n");
        // An IPv6 literal has no dot either: to a PAC engine that goes by the dots alone it is a plain host name.
        builder.Append("  if ((isPlainHostName(host) && host.indexOf(\":\") < 0) || dnsDomainIs(host, \".local\") || host == \"localhost\" || host == \"::1\") return \"DIRECT\";\n");
        builder.Append("  var ipv4 = /^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(host);\n");
        var apps = (privateApps ?? []).Where(n => n.Network.BaseAddress.AddressFamily == AddressFamily.InterNetwork).ToList();
        if (privateNetworksDirect && apps.Count > 0)
        {
            // The URL's port, as the browser will connect to it: the one written, else the scheme's.
            builder.Append("  // private apps given by address (app segments), on their ports: a connector reaches them\n");
            builder.Append("  var written = /^[a-z][a-z0-9+.-]*:\\/\\/(\\[[^\\]]*\\]|[^\\/?#:]*):(\\d+)/i.exec(url);\n");
            builder.Append("  var port = written ? parseInt(written[2], 10) : /^(https|wss):/i.test(url) ? 443 : 80;\n");
            builder.Append("  if (ipv4 && (").AppendJoin(" ||\n      ", apps.Select(InNetOnPorts)).Append(")) return ").Append(proxy).Append(";\n");
        }

        builder.Append("  if (ipv4 && (").Append(IsInNet(Loopback));
        if (privateNetworksDirect)
        {
            foreach (var network in PrivateNetworks)
            {
                builder.Append(" ||\n      ").Append(IsInNet(network));
            }
        }

        builder.Append(")) return \"DIRECT\";\n");
        builder.Append("  return ").Append(proxy).Append(";\n");
        builder.Append("}\n");
        return builder.ToString();
    }

    /// <summary>PAC's test for an IPv4 network and its ports: <c>(isInNet(…) &amp;&amp; (port == 80 || (port &gt;= 8000 &amp;&amp; port &lt;= 8080)))</c>.</summary>
    private static string InNetOnPorts(NetworkPorts app) => app.Ports.Count == 0
        ? IsInNet(app.Network)
        : $"({IsInNet(app.Network)} && ({string.Join(" || ", app.Ports.Select(r => r.Low == r.High ? $"port == {r.Low}" : $"(port >= {r.Low} && port <= {r.High})"))}))";

    /// <summary>PAC's test for an IPv4 network: <c>isInNet(host, "10.0.0.0", "255.0.0.0")</c>.</summary>
    private static string IsInNet(IPNetwork network)
    {
        var mask = network.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - network.PrefixLength);
        return $"isInNet(host, \"{network.BaseAddress}\", \"{mask >> 24}.{(mask >> 16) & 0xFF}.{(mask >> 8) & 0xFF}.{mask & 0xFF}\")";
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
