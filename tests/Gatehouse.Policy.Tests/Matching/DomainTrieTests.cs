using Gatehouse.Policy.Matching;

namespace Gatehouse.Policy.Tests.Matching;

public sealed class DomainTrieTests
{
    [Theory]
    [InlineData("example.com", new[] { 1 })]
    [InlineData("www.example.com", new[] { 2, 3 })]
    [InlineData("a.www.example.com", new[] { 2 })]
    [InlineData("com", new int[0])]
    [InlineData("example.org", new int[0])]
    [InlineData("xexample.com", new int[0])]
    public void Exact_and_below_values_come_out_least_specific_first(string host, int[] expected)
    {
        var trie = new DomainTrie();
        trie.Add("example.com", DomainMatch.Exact, 1);
        trie.Add("example.com", DomainMatch.Below, 2);
        trie.Add("www.example.com", DomainMatch.Exact, 3);
        trie.Freeze();
        var output = new int[trie.MaxMatches];

        var count = trie.Match(host, output);

        Assert.Equal(expected, output[..count]);
    }

    [Fact]
    public void Many_names_survive_table_growth()
    {
        var trie = new DomainTrie();
        for (var i = 0; i < 20_000; i++)
        {
            trie.Add($"host{i}.zone{i % 97}.example", DomainMatch.Exact, i);
        }

        trie.Freeze();
        var output = new int[trie.MaxMatches];

        for (var i = 0; i < 20_000; i += 1_111)
        {
            Assert.Equal(1, trie.Match($"host{i}.zone{i % 97}.example", output));
            Assert.Equal(i, output[0]);
        }

        Assert.Equal(0, trie.Match("host1.zone2.example", output));
    }
}
