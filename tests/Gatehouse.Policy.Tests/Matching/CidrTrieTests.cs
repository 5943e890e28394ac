using System.Net;
using Gatehouse.Policy.Matching;

namespace Gatehouse.Policy.Tests.Matching;

public sealed class CidrTrieTests
{
    [Theory]
    [InlineData("10.1.2.3", new[] { 0, 8, 16, 32 })]
    [InlineData("10.1.9.9", new[] { 0, 8, 16 })]
    [InlineData("10.200.0.1", new[] { 0, 8 })]
    [InlineData("192.0.2.1", new[] { 0 })]
    public void Every_containing_prefix_contributes_shortest_first(string address, int[] expected)
    {
        var trie = new CidrTrie();
        foreach (var cidr in new[] { "0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32", "11.0.0.0/8" })
        {
            var network = IPNetwork.Parse(cidr);
            trie.Add(network.BaseAddress.GetAddressBytes(), network.PrefixLength, network.PrefixLength == 8 && cidr.StartsWith("11", StringComparison.Ordinal) ? 99 : network.PrefixLength);
        }

        trie.Freeze();
        var output = new int[trie.MaxMatches];

        var count = trie.Match(IPAddress.Parse(address).GetAddressBytes(), output);

        Assert.Equal(expected, output[..count]);
    }
}
