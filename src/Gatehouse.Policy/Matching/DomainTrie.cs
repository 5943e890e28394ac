namespace Gatehouse.Policy.Matching;

/// <summary>How a domain entry applies.</summary>
internal enum DomainMatch
{
    /// <summary><c>example.com</c> as a rule domain: that host only.</summary>
    Exact = 0,
    /// <summary><c>*.example.com</c>: every host strictly below it, not <c>example.com</c> itself.</summary>
    Below = 1,
}

/// <summary>
/// A trie of reversed DNS labels (<c>www.example.com</c> is root → com → example → www). Each node
/// has two value lists: values for the node's own name (exact) and values for every name below it
/// (wildcard). A category domain is added as both, so it covers the domain and its subdomains.
/// Children are found through one open-addressing table keyed by (parent, label), so a lookup costs
/// one probe per label and stops at the first label the trie does not know.
/// </summary>
internal sealed class DomainTrie
{
    private const int Root = 0;

    private int[] parent = new int[64];
    private int[] labelStart = new int[64];
    private byte[] labelLength = new byte[64];
    private int[] keyHash = new int[64];
    private char[] labels = new char[256];
    private int labelsUsed;
    private int[] table = new int[128];
    private int nodeCount = 1;
    private ValueListsBuilder? pending = new();
    private ValueLists lists = ValueLists.Empty;

    /// <summary>The most values one <see cref="Match"/> can write (a bound for the caller's buffer).</summary>
    public int MaxMatches { get; private set; }

    /// <summary>Nodes, the root included.</summary>
    public int NodeCount => nodeCount;

    /// <summary>Adds <paramref name="value"/> for <paramref name="name"/> (lower case, validated, no <c>*.</c>).</summary>
    public void Add(ReadOnlySpan<char> name, DomainMatch match, int value)
    {
        var builder = pending ?? throw new InvalidOperationException("The trie is frozen.");
        var node = Root;
        var end = name.Length;
        while (end > 0)
        {
            var dot = name[..end].LastIndexOf('.');
            var label = name[(dot + 1)..end];
            node = FindOrAdd(node, label);
            end = dot < 0 ? 0 : dot;
        }

        builder.Add((node * 2) + (int)match, value);
    }

    /// <summary>Builds the value lists; no more additions after this.</summary>
    public void Freeze()
    {
        var builder = pending ?? throw new InvalidOperationException("The trie is frozen.");
        lists = builder.Build(nodeCount * 2);
        pending = null;
        Array.Resize(ref parent, nodeCount);
        Array.Resize(ref labelStart, nodeCount);
        Array.Resize(ref labelLength, nodeCount);
        Array.Resize(ref keyHash, nodeCount);
        Array.Resize(ref labels, labelsUsed);

        // Parents are created before their children, so one forward pass sums the wildcard values on each path.
        var below = new int[nodeCount];
        var max = 0;
        for (var node = 0; node < nodeCount; node++)
        {
            below[node] = (node == Root ? 0 : below[parent[node]]) + lists.Count((node * 2) + 1);
            max = Math.Max(max, Math.Max(below[node], (node == Root ? 0 : below[parent[node]]) + lists.Count(node * 2)));
        }

        MaxMatches = max;
    }

    /// <summary>
    /// Writes the values that apply to <paramref name="host"/> (lower case, no final dot), from the
    /// top-level domain down, so the most specific come last; returns how many were written.
    /// </summary>
    public int Match(ReadOnlySpan<char> host, Span<int> output)
    {
        var written = 0;
        var node = Root;
        var end = host.Length;
        while (end > 0)
        {
            var dot = host[..end].LastIndexOf('.');
            var child = Find(node, host[(dot + 1)..end]);
            if (child < 0)
            {
                break;
            }

            var values = lists[(child * 2) + (dot < 0 ? 0 : 1)];
            values.CopyTo(output[written..]);
            written += values.Length;
            node = child;
            end = dot < 0 ? 0 : dot;
        }

        return written;
    }

    /// <summary>Approximate managed bytes held.</summary>
    public long Bytes => (parent.Length * 13L) + (labels.Length * 2L) + (table.Length * 4L) + (lists.Start.Length * 4L) + (lists.Values.Length * 4L);

    private int Find(int node, ReadOnlySpan<char> label)
    {
        if (label.Length is 0 or > 255)
        {
            return -1;
        }

        var hash = Hash(node, label);
        var mask = table.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var candidate = table[i] - 1;
            if (candidate < 0)
            {
                return -1;
            }

            if (keyHash[candidate] == hash && parent[candidate] == node
                && label.SequenceEqual(labels.AsSpan(labelStart[candidate], labelLength[candidate])))
            {
                return candidate;
            }
        }
    }

    private int FindOrAdd(int node, ReadOnlySpan<char> label)
    {
        var found = Find(node, label);
        if (found >= 0)
        {
            return found;
        }

        if (nodeCount == parent.Length)
        {
            var size = nodeCount * 2;
            Array.Resize(ref parent, size);
            Array.Resize(ref labelStart, size);
            Array.Resize(ref labelLength, size);
            Array.Resize(ref keyHash, size);
        }

        if (labelsUsed + label.Length > labels.Length)
        {
            Array.Resize(ref labels, Math.Max(labels.Length * 2, labelsUsed + label.Length));
        }

        var id = nodeCount++;
        parent[id] = node;
        labelStart[id] = labelsUsed;
        labelLength[id] = (byte)label.Length;
        keyHash[id] = Hash(node, label);
        label.CopyTo(labels.AsSpan(labelsUsed));
        labelsUsed += label.Length;
        if (nodeCount * 2 > table.Length)
        {
            Rehash(table.Length * 2);
        }
        else
        {
            Insert(id);
        }

        return id;
    }

    private void Rehash(int size)
    {
        table = new int[size];
        for (var id = 1; id < nodeCount; id++)
        {
            Insert(id);
        }
    }

    private void Insert(int id)
    {
        var mask = table.Length - 1;
        var i = keyHash[id] & mask;
        while (table[i] != 0)
        {
            i = (i + 1) & mask;
        }

        table[i] = id + 1;
    }

    // FNV-1a over the label, mixed with the parent id; own hash so that the layout is the same in every process.
    private static int Hash(int node, ReadOnlySpan<char> label)
    {
        var h = 2166136261u ^ (uint)node * 0x9E3779B1u;
        foreach (var c in label)
        {
            h = (h ^ c) * 16777619u;
        }

        h ^= h >> 15;
        h *= 0x2C1B3C6Du;
        h ^= h >> 12;
        return (int)(h & 0x7FFFFFFF);
    }
}
