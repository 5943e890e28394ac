using System.Diagnostics;
using System.Text.Json;

namespace Gatehouse.Testing.Pac;

/// <summary>
/// Runs a PAC file as a browser does: <c>FindProxyForURL(url, host)</c> in a JavaScript engine (Node.js, from
/// Debian's <c>nodejs</c>), with the PAC helpers it may call. <c>isInNet</c> takes only IPv4 literals: a browser
/// would resolve a name there, which the proxies' PAC files must not make it do, so a name fails the run.
/// </summary>
public static class PacScript
{
    /// <summary>Where <c>node</c> is, or null.</summary>
    public static string? Node { get; } = new[] { "/usr/bin/node", "/usr/bin/nodejs", "/usr/local/bin/node" }.FirstOrDefault(File.Exists);

    // The PAC helpers the proxies' files use, as Netscape's PAC specification defines them (isPlainHostName goes by
    // the dots alone, as many engines do, so an IPv6 literal is "plain"), then each URL's answer as one JSON line.
    private const string Runner = """
        const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
        const ipv4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/;
        const number = (text) => { const m = ipv4.exec(text); if (!m) return null; return ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0; };
        const helpers = {
          isPlainHostName: (host) => !host.includes('.'),
          dnsDomainIs: (host, domain) => host.length >= domain.length && host.endsWith(domain),
          localHostOrDomainIs: (host, hostdom) => host === hostdom || (!host.includes('.') && hostdom.startsWith(host + '.')),
          isInNet: (host, pattern, mask) => {
            const address = number(host);
            if (address === null) throw new Error('isInNet(' + host + '): a browser would resolve this name');
            return ((address & number(mask)) >>> 0) === ((number(pattern) & number(mask)) >>> 0);
          },
        };
        const find = new Function(...Object.keys(helpers), input.pac + '\nreturn FindProxyForURL;')(...Object.values(helpers));
        const hostOf = (url) => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
        console.log(JSON.stringify(input.urls.map((request) => Array.isArray(request) ? find(request[0], request[1]) : find(request, hostOf(request)))));
        """;

    /// <summary>What <paramref name="pac"/> answers for each URL, given the URL's host as browsers give it (an IPv6 literal without brackets): <c>DIRECT</c> or <c>PROXY host:port</c>.</summary>
    /// <exception cref="InvalidOperationException">Node is missing, or the script fails.</exception>
    public static Task<IReadOnlyList<string>> FindProxyAsync(string pac, params string[] urls) => RunAsync(pac, urls);

    /// <summary>
    /// What <paramref name="pac"/> answers for each URL with the host given as written, as an engine might pass it
    /// (brackets, capitals, another spelling of the address).
    /// </summary>
    /// <exception cref="InvalidOperationException">Node is missing, or the script fails.</exception>
    public static Task<IReadOnlyList<string>> FindProxyAsync(string pac, params (string Url, string Host)[] requests) =>
        RunAsync(pac, [.. requests.Select(r => new[] { r.Url, r.Host })]);

    private static async Task<IReadOnlyList<string>> RunAsync(string pac, object[] urls)
    {
        var node = Node ?? throw new InvalidOperationException(PacFactAttribute.MissingReason);
        var start = new ProcessStartInfo(node, ["-e", Runner])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(JsonSerializer.Serialize(new { pac, urls }));
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"the PAC file did not answer within 30 s (FindProxyForURL loops?): {await error}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"the PAC file failed in node (exit {process.ExitCode}): {await error}");
        }

        return JsonSerializer.Deserialize<string[]>(await output)!;
    }
}

/// <summary>
/// A test that runs a PAC file with <see cref="PacScript"/>: skipped, with the reason, when Node.js is missing,
/// unless <c>GATEHOUSE_REQUIRE_NODE=1</c> (./test.sh sets it once it has installed Debian's <c>nodejs</c>, and
/// on CI), in which case it runs and fails.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PacFactAttribute : FactAttribute
{
    /// <summary>Why a PAC test is skipped.</summary>
    public const string MissingReason = "node is not installed, so the PAC file cannot be run as a browser runs it: apt-get install nodejs (./test.sh does)";

    /// <summary>Marks a test that runs a PAC file.</summary>
    public PacFactAttribute()
    {
        Skip = PacScript.Node is null && Environment.GetEnvironmentVariable("GATEHOUSE_REQUIRE_NODE") != "1" ? MissingReason : null;
    }
}
