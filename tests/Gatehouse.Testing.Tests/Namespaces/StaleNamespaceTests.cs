using System.Diagnostics;
using System.Globalization;
using Gatehouse.Testing.Namespaces;

namespace Gatehouse.Testing.Tests.Namespaces;

public sealed class StaleNamespaceTests
{
    [NamespaceFact]
    public void A_namespace_whose_test_process_is_gone_is_removed_with_its_links_and_routes_and_a_live_ones_stays()
    {
        // What a killed test process leaves: a namespace, a veth pair into it, a route in the host's namespace.
        var tag = $"{Environment.ProcessId % 10000}s";
        var stale = $"gh-st-{tag}";
        using var live = NetworkNamespace.Create($"gh-lv-{tag}");
        NetworkNamespace.HostIp("netns", "add", stale);
        try
        {
            NetworkNamespace.HostIp("link", "add", $"ghs{tag}", "type", "veth", "peer", "name", $"ghS{tag}", "netns", stale);
            NetworkNamespace.HostIp("addr", "add", "10.253.1.1/24", "dev", $"ghs{tag}");
            NetworkNamespace.HostIp("link", "set", $"ghs{tag}", "up");
            NetworkNamespace.HostIp("route", "add", "198.18.253.10/32", "via", "10.253.1.2");
            File.WriteAllText(Path.Combine("/run/gatehouse-tests/netns", stale), DeadProcessId().ToString(CultureInfo.InvariantCulture));

            Assert.True(NetworkNamespace.RemoveStale() >= 1);

            Assert.False(File.Exists(Path.Combine("/run/netns", stale)));
            Assert.DoesNotContain("198.18.253.10", NetworkNamespace.HostIp("route", "show"), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine("/run/netns", live.Name)), "a namespace of a live test process stays");
        }
        finally
        {
            if (File.Exists(Path.Combine("/run/netns", stale)))
            {
                NetworkNamespace.HostIp("netns", "delete", stale);
            }
        }
    }

    /// <summary>The id of a process that has ended.</summary>
    private static int DeadProcessId()
    {
        using var ended = Process.Start("true")!;
        ended.WaitForExit();
        return ended.Id;
    }
}
