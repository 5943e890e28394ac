namespace Gatehouse.Testing.Namespaces;

/// <summary>
/// A test that builds network namespaces and nftables tables: it needs root (or CAP_NET_ADMIN and
/// CAP_SYS_ADMIN), <c>ip</c> and <c>nft</c>. Without them it is skipped with the reason, unless
/// <c>GATEHOUSE_REQUIRE_NAMESPACES=1</c> (./test.sh sets it when it runs as root, and on CI), in which
/// case it runs and fails with what is missing.
/// </summary>
public sealed class NamespaceFactAttribute : FactAttribute
{
    /// <summary>Marks a test that needs network namespaces.</summary>
    public NamespaceFactAttribute()
    {
        Skip = SkipReason;
    }

    /// <summary>Why namespace tests cannot run here, or null when they can (or must).</summary>
    public static string? SkipReason { get; } = Probe();

    private static string? Probe()
    {
        if (Environment.GetEnvironmentVariable("GATEHOUSE_REQUIRE_NAMESPACES") == "1")
        {
            return null;
        }

        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }

        if (Environment.UserName != "root")
        {
            return "network namespace tests need root (ip netns, nft); run ./test.sh as root, or set GATEHOUSE_REQUIRE_NAMESPACES=1 to make this a failure";
        }

        string[] tools = ["ip", "nft", "curl", "dig"];
        var missing = tools.Where(t => !new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Any(d => File.Exists(Path.Combine(d, t)))).ToList();
        return missing.Count > 0
            ? $"network namespace tests need {string.Join(", ", missing)} (install iproute2, nftables, curl, dnsutils or run ./test.sh)"
            : null;
    }
}
