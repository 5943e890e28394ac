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

    /// <summary>IPv4 loopback, which a PAC file always sends direct: the browser's own machine, which no proxy or connector is.</summary>
    private static readonly IPNetwork Loopback = IPNetwork.Parse("127.0.0.0/8");

    /// <summary>IPv6 loopback, however an engine spells it.</summary>
    private static readonly IPNetwork Ipv6Loopback = IPNetwork.Parse("::1/128");

    /// <summary>
    /// The IPv4 networks the edge's PAC file sends direct: RFC 1918's, and link-local (<c>169.254/16</c>), which the
    /// edge's egress safety refuses.
    /// </summary>
    private static readonly IPNetwork[] DirectIpv4Networks =
        [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("169.254.0.0/16")];

    /// <summary>
    /// The IPv6 networks the edge's PAC file sends direct: unique local addresses (RFC 4193), IPv6's private networks,
    /// and link-local (<c>fe80::/10</c>), which the edge's egress safety refuses.
    /// </summary>
    private static readonly IPNetwork[] DirectIpv6Networks = [IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10")];

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
    /// The tenant's PAC file: plain host names, <c>.local</c> and loopback (IPv4 and <c>::1</c>) always go direct; when
    /// <paramref name="privateNetworksDirect"/>, so do private and link-local address literals (RFC 1918, IPv6 unique local
    /// addresses, <c>169.254/16</c>, <c>fe80::/10</c>), except those in <paramref name="privateApps"/> on their ports;
    /// everything else goes through this proxy. Browsers fetch it without proxy credentials.
    /// </summary>
    /// <remarks>
    /// PAC's <c>isInNet</c> knows only IPv4, and <c>isInNetEx</c> is Microsoft's and Chrome's alone (WinHTTP offers it only
    /// to <c>FindProxyForURLEx</c>): the file reads IPv6 literals itself, in ES3 that every PAC engine runs, so that every
    /// browser answers alike, and decides an IPv4-mapped one (<c>::ffff:10.1.2.3</c>) as the IPv4 address it carries, as
    /// the edge does. What it cannot read goes through the proxy, which decides.
    /// </remarks>
    /// <param name="tenantName">Named in its first line.</param>
    /// <param name="proxyAddress">HOST:PORT of the proxy.</param>
    /// <param name="privateNetworksDirect">
    /// True for the edge, which does not serve private addresses of its own; false for the agent, whose tunnel
    /// carries private apps given by address.
    /// </param>
    /// <param name="privateApps">
    /// The networks of the tenant's app segments with their ports: address literals in them, on those ports, go through
    /// the proxy, which hands them to a connector.
    /// </param>
    public static string Pac(string tenantName, string proxyAddress, bool privateNetworksDirect = true, IEnumerable<NetworkPorts>? privateApps = null)
    {
        var proxy = $"\"PROXY {proxyAddress}\"";
        var builder = new StringBuilder();
        builder.Append("// Gatehouse proxy auto-configuration for tenant ").Append(tenantName.Replace('\n', ' ')).Append('\n');
        builder.Append("function FindProxyForURL(url, host) {\n");
        // An IPv6 literal has no dot either: to a PAC engine that goes by the dots alone it is a plain host name.
        builder.Append("  if ((isPlainHostName(host) && host.indexOf(\":\") < 0) || dnsDomainIs(host, \".local\") || host == \"localhost\" || host == \"::1\") return \"DIRECT\";\n");
        if (privateNetworksDirect)
        {
            builder.Append("  var ipv6 = gatehouseIpv6(host);\n");
            builder.Append("  var mapped = gatehouseMappedIpv4(ipv6);\n");
            builder.Append("  if (mapped != null) { host = mapped; ipv6 = null; }\n");
        }

        builder.Append("  var ipv4 = /^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(host);\n");
        AppendTest(builder, [InNet(Loopback)], "ipv4", Direct);
        if (privateNetworksDirect)
        {
            AppendTest(builder, [InNet(Ipv6Loopback)], "ipv6", Direct);

            // The segments come before the direct ranges they may lie in: a connector reaches the app.
            var apps = (privateApps ?? []).ToList();
            if (apps.Count > 0)
            {
                // The URL's port, as the browser will connect to it: the one written, else the scheme's.
                builder.Append("  // private apps given by address (app segments), on their ports: a connector reaches them\n");
                builder.Append("  var written = /^[a-z][a-z0-9+.-]*:\\/\\/(\\[[^\\]]*\\]|[^\\/?#:\\[]*):(\\d+)/i.exec(url);\n");
                builder.Append("  var port = written ? parseInt(written[2], 10) : /^(https|wss):/i.test(url) ? 443 : 80;\n");
                AppendTest(builder, apps.Where(IsIpv4).Select(InNetOnPorts), "ipv4", proxy);
                AppendTest(builder, apps.Where(a => !IsIpv4(a)).Select(InNetOnPorts), "ipv6", proxy);
            }

            AppendTest(builder, DirectIpv4Networks.Select(InNet), "ipv4", Direct);
            AppendTest(builder, DirectIpv6Networks.Select(InNet), "ipv6", Direct);
        }

        builder.Append("  return ").Append(proxy).Append(";\n");
        builder.Append("}\n");
        if (privateNetworksDirect)
        {
            builder.Append(Ipv6Functions);
        }

        return builder.ToString();
    }

    private const string Direct = "\"DIRECT\"";

    // ES3 (no Array.indexOf, no let): WinHTTP's engine runs PAC files too.
    private const string Ipv6Functions = """

        // The eight 16-bit words of an IPv6 literal (brackets allowed, no zone), or null for anything else.
        function gatehouseIpv6(host) {
          if (host.charAt(0) == "[" && host.charAt(host.length - 1) == "]") host = host.substring(1, host.length - 1);
          if (!/^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(host)) return null;
          var halves = host.split("::");
          if (halves.length > 2) return null;
          var head = gatehouseWords(halves[0], halves.length == 1);
          var tail = halves.length == 2 ? gatehouseWords(halves[1], true) : [];
          if (head == null || tail == null) return null;
          var missing = 8 - head.length - tail.length;
          if (halves.length == 1 ? missing != 0 : missing < 1) return null;
          for (; missing > 0; missing--) head.push(0);
          return head.concat(tail);
        }

        // The words of colon-separated groups of hex digits; the last group of an address may be a dotted IPv4 address.
        function gatehouseWords(text, endsAddress) {
          var words = [];
          if (text == "") return words;
          var groups = text.split(":");
          for (var i = 0; i < groups.length; i++) {
            var dotted = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(groups[i]);
            if (dotted && endsAddress && i == groups.length - 1) {
              for (var b = 1; b <= 4; b++) if (parseInt(dotted[b], 10) > 255) return null;
              words.push(parseInt(dotted[1], 10) * 256 + parseInt(dotted[2], 10), parseInt(dotted[3], 10) * 256 + parseInt(dotted[4], 10));
            } else if (/^[0-9A-Fa-f]{1,4}$/.test(groups[i])) {
              words.push(parseInt(groups[i], 16));
            } else {
              return null;
            }
          }
          return words;
        }

        // The IPv4 address an IPv4-mapped IPv6 address (::ffff:10.1.2.3, ::ffff:a01:203) carries, dotted, or null.
        function gatehouseMappedIpv4(words) {
          if (words == null || words[0] != 0 || words[1] != 0 || words[2] != 0 || words[3] != 0 || words[4] != 0 || words[5] != 0xFFFF) return null;
          return (words[6] >> 8) + "." + (words[6] & 0xFF) + "." + (words[7] >> 8) + "." + (words[7] & 0xFF);
        }

        // Whether the words of an address are in the network whose first words are base, of prefix length bits.
        function gatehouseInNet6(words, base, bits) {
          for (var i = 0; bits > 0; i++, bits -= 16) {
            var mask = bits >= 16 ? 0xFFFF : (0xFFFF << (16 - bits)) & 0xFFFF;
            if ((words[i] & mask) != (base[i] & mask)) return false;
          }
          return true;
        }

        """;

    /// <summary>Appends <c>if (GUARD &amp;&amp; (TEST || …)) return ANSWER;</c>, or nothing without tests.</summary>
    private static void AppendTest(StringBuilder builder, IEnumerable<string> tests, string guard, string answer)
    {
        var list = tests.ToList();
        if (list.Count > 0)
        {
            builder.Append("  if (").Append(guard).Append(" && (").AppendJoin(" ||\n      ", list).Append(")) return ").Append(answer).Append(";\n");
        }
    }

    private static bool IsIpv4(NetworkPorts app) => app.Network.BaseAddress.AddressFamily == AddressFamily.InterNetwork;

    /// <summary>PAC's test for a network and its ports: <c>(isInNet(…) &amp;&amp; (port == 80 || (port &gt;= 8000 &amp;&amp; port &lt;= 8080)))</c>.</summary>
    private static string InNetOnPorts(NetworkPorts app) => app.Ports.Count == 0
        ? InNet(app.Network)
        : $"({InNet(app.Network)} && ({string.Join(" || ", app.Ports.Select(r => r.Low == r.High ? $"port == {r.Low}" : $"(port >= {r.Low} && port <= {r.High})"))}))";

    /// <summary>
    /// PAC's test for a network: <c>isInNet(host, "10.0.0.0", "255.0.0.0")</c> for IPv4, the file's own
    /// <c>gatehouseInNet6(ipv6, [0xfd00, 0, …], 8)</c> for IPv6.
    /// </summary>
    private static string InNet(IPNetwork network)
    {
        if (network.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = network.BaseAddress.GetAddressBytes();
            var words = Enumerable.Range(0, 8).Select(i => $"0x{(bytes[2 * i] << 8) | bytes[(2 * i) + 1]:x}");
            return $"gatehouseInNet6(ipv6, [{string.Join(", ", words)}], {network.PrefixLength})";
        }

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
