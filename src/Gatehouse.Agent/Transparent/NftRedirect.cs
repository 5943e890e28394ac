using System.Diagnostics;
using System.Globalization;

namespace Gatehouse.Agent.Transparent;

/// <summary>
/// The agent's nftables table (<see cref="Table"/>, family inet), which it alone owns: locally made TCP
/// connections are redirected to the transparent listener and DNS (UDP and TCP port 53) to the agent's
/// resolver, IPv4 and IPv6 alike; on a host without IPv6 loopback, IPv6 TCP and DNS are reset instead,
/// so that applications fall back to IPv4 rather than leave past the agent. The agent's own sockets carry <see cref="Mark"/> and pass, as does traffic
/// to the machine's own addresses.
/// </summary>
/// <remarks>
/// The whole table is replaced in one <c>nft -f</c> transaction, so a rule set is never half applied;
/// removing it is one <c>delete table</c>.
/// </remarks>
internal static class NftRedirect
{
    /// <summary>The table's name.</summary>
    public const string Table = "gatehouse_agent";

    /// <summary>The socket mark of the agent's own traffic ("gh").</summary>
    public const int Mark = 0x6768;

    /// <summary>
    /// The rule set that redirects TCP to <paramref name="tcpPort"/> and DNS to <paramref name="dnsPort"/>
    /// on 127.0.0.1 and, when <paramref name="carryIpv6"/>, on ::1; otherwise IPv6 is reset.
    /// </summary>
    public static string Ruleset(int tcpPort, int dnsPort, bool carryIpv6)
    {
        var mark = "0x" + Mark.ToString("x", CultureInfo.InvariantCulture);
        // Without IPv6 loopback to redirect to, only IPv4 is redirected and IPv6 is reset.
        var family = carryIpv6 ? string.Empty : "meta nfproto ipv4 ";
        var refuseIpv6 = carryIpv6 ? string.Empty : $$"""
                chain refuse_ipv6 {
                    type filter hook output priority filter; policy accept;
                    meta mark {{mark}} return
                    meta nfproto ipv6 fib daddr type local return
                    meta nfproto ipv6 meta l4proto tcp reject with tcp reset
                    meta nfproto ipv6 udp dport 53 reject
                }

            """;
        return $$"""
            table inet {{Table}}
            delete table inet {{Table}}
            table inet {{Table}} {
                chain intercept {
                    type nat hook output priority -100; policy accept;
                    meta mark {{mark}} return
                    fib daddr type local return
                    {{family}}udp dport 53 redirect to :{{dnsPort}}
                    {{family}}tcp dport 53 redirect to :{{dnsPort}}
                    {{family}}meta l4proto tcp redirect to :{{tcpPort}}
                }
            {{refuseIpv6}}}

            """;
    }

    /// <summary>Installs (or replaces) the table.</summary>
    /// <exception cref="InvalidOperationException">nft refused the rule set or cannot run; the message says why.</exception>
    public static void Install(int tcpPort, int dnsPort, bool carryIpv6) => Run(["-f", "-"], Ruleset(tcpPort, dnsPort, carryIpv6));

    /// <summary>Removes the table; returns whether there was one.</summary>
    public static bool Remove()
    {
        if (!Exists())
        {
            return false;
        }

        Run(["delete", "table", "inet", Table], null);
        return true;
    }

    /// <summary>Whether the table is there.</summary>
    public static bool Exists()
    {
        try
        {
            return Run(["list", "table", "inet", Table], null, quiet: true);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool Run(string[] arguments, string? input, bool quiet = false)
    {
        var info = new ProcessStartInfo(Nft())
        {
            UseShellExecute = false,
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("nft did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"nft cannot run ({e.Message}): install nftables.", e);
        }

        using (process)
        {
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }

            var error = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0)
            {
                return true;
            }

            if (quiet)
            {
                return false;
            }

            throw new InvalidOperationException($"nft {string.Join(' ', arguments)} failed: {error.Result.Trim()}");
        }
    }

    private static string Nft() =>
        new[] { "/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft" }.FirstOrDefault(File.Exists) ?? "nft";
}
