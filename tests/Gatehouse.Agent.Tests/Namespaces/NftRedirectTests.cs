using Gatehouse.Agent.Transparent;
using Gatehouse.Testing.Namespaces;

namespace Gatehouse.Agent.Tests.Namespaces;

/// <summary>Both shapes of the agent's rule set are accepted by the kernel's nftables, in a namespace of their own.</summary>
[Collection(NamespaceCollection.Name)]
public sealed class NftRedirectTests
{
    [NamespaceFact]
    public async Task Both_rule_sets_load_and_only_the_one_without_ipv6_loopback_resets_ipv6()
    {
        using var scratch = NetworkNamespace.Create($"gh-nft-{Environment.ProcessId % 100000}");
        foreach (var carryIpv6 in new[] { true, false })
        {
            var file = Path.GetTempFileName();
            try
            {
                await File.WriteAllTextAsync(file, NftRedirect.Ruleset(9040, 9053, carryIpv6));
                var loaded = await scratch.ExecAsync(TimeSpan.FromSeconds(20), "nft", "-f", file);
                Assert.True(loaded.Code == 0, loaded.Error);
                var listed = await scratch.ExecAsync(TimeSpan.FromSeconds(20), "nft", "list", "table", "inet", NftRedirect.Table);

                Assert.Contains("redirect to :9040", listed.Output, StringComparison.Ordinal);
                Assert.Contains("redirect to :9053", listed.Output, StringComparison.Ordinal);
                Assert.Equal(!carryIpv6, listed.Output.Contains("reject with tcp reset", StringComparison.Ordinal));
            }
            finally
            {
                File.Delete(file);
            }
        }
    }
}
