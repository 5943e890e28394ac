namespace Gatehouse.Policy.Matching;

/// <summary>
/// A binary trie over address bits (one per family). Every prefix that contains an address
/// contributes its values, from the shortest (<c>/0</c>) to the longest, so both "longest prefix"
/// and "all containing prefixes" are one walk of at most 32 or 128 steps.
/// </summary>
internal sealed class CidrTrie
{
    private int[] children = new int[64];
    private int nodeCount = 1;
    private ValueListsBuilder? pending = new();
    private ValueLists lists = ValueLists.Empty;

    /// <summary>The most values one <see cref="Match"/> can write.</summary>
    public int MaxMatches { get; private set; }

    /// <summary>Adds <paramref name="value"/> for the network <paramref name="address"/>/<paramref name="prefixLength"/>.</summary>
    public void Add(ReadOnlySpan<byte> address, int prefixLength, int value)
    {
        var builder = pending ?? throw new InvalidOperationException("The trie is frozen.");
        var node = 0;
        for (var bit = 0; bit < prefixLength; bit++)
        {
            var side = (address[bit >> 3] >> (7 - (bit & 7))) & 1;
            var slot = (node * 2) + side;
            if (children[slot] == 0)
            {
                if ((nodeCount * 2) + 2 > children.Length)
                {
                    Array.Resize(ref children, children.Length * 2);
                }

                children[slot] = nodeCount++;
            }

            node = children[slot];
        }

        builder.Add(node, value);
    }

    /// <summary>Builds the value lists; no more additions after this.</summary>
    public void Freeze()
    {
        var builder = pending ?? throw new InvalidOperationException("The trie is frozen.");
        lists = builder.Build(nodeCount);
        pending = null;
        Array.Resize(ref children, nodeCount * 2);
        var sum = new int[nodeCount];
        sum[0] = lists.Count(0);
        var max = sum[0];
        for (var node = 0; node < nodeCount; node++)
        {
            for (var side = 0; side < 2; side++)
            {
                var child = children[(node * 2) + side];
                if (child != 0)
                {
                    sum[child] = sum[node] + lists.Count(child);
                    max = Math.Max(max, sum[child]);
                }
            }
        }

        MaxMatches = max;
    }

    /// <summary>Writes the values of every prefix that contains <paramref name="address"/>, shortest first; returns how many.</summary>
    public int Match(ReadOnlySpan<byte> address, Span<int> output)
    {
        var values = lists[0];
        values.CopyTo(output);
        var written = values.Length;
        var node = 0;
        var bits = address.Length * 8;
        for (var bit = 0; bit < bits; bit++)
        {
            node = children[(node * 2) + ((address[bit >> 3] >> (7 - (bit & 7))) & 1)];
            if (node == 0)
            {
                break;
            }

            values = lists[node];
            values.CopyTo(output[written..]);
            written += values.Length;
        }

        return written;
    }

    /// <summary>Approximate managed bytes held.</summary>
    public long Bytes => (children.Length * 4L) + (lists.Start.Length * 4L) + (lists.Values.Length * 4L);
}
