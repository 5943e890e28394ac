namespace Gatehouse.Observability;

/// <summary>
/// The tags of one series, deduplicated by key, with the label text rendered once at creation so that
/// scrapes only copy strings. Equality is set equality, so tags given in any order find the same series.
/// </summary>
internal sealed class TagSet
{
    private TagSet(KeyValuePair<string, object?>[] pairs, int hash, string labels, string labelPrefix)
    {
        Pairs = pairs;
        Hash = hash;
        Labels = labels;
        LabelPrefix = labelPrefix;
    }

    /// <summary>The pairs, sorted by key (ordinal), one per key.</summary>
    public KeyValuePair<string, object?>[] Pairs { get; }

    /// <summary>An order-independent hash of <see cref="Pairs"/>, equal to <see cref="HashOf"/> of the same tags.</summary>
    public int Hash { get; }

    /// <summary>The label block, <c>{a="x",b="y"}</c>, or empty when there are no tags.</summary>
    public string Labels { get; }

    /// <summary>The labels followed by a comma, <c>a="x",b="y",</c>, for appending <c>le</c>; empty without tags.</summary>
    public string LabelPrefix { get; }

    public static TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // The last value given for a key wins, as it would in a dictionary.
        var unique = new List<KeyValuePair<string, object?>>(tags.Length);
        foreach (var tag in tags)
        {
            var pair = new KeyValuePair<string, object?>(tag.Key ?? string.Empty, tag.Value);
            int existing = 0;
            while (existing < unique.Count && !string.Equals(unique[existing].Key, pair.Key, StringComparison.Ordinal))
            {
                existing++;
            }

            if (existing < unique.Count)
            {
                unique[existing] = pair;
            }
            else
            {
                unique.Add(pair);
            }
        }

        var pairs = unique.ToArray();
        Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var (labels, prefix) = RenderLabels(pairs);
        return new TagSet(pairs, HashOf(pairs), labels, prefix);
    }

    public static int HashOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // A sum is order-independent, so the hot path can hash tags without sorting them.
        int hash = 0;
        foreach (var tag in tags)
        {
            hash += HashCode.Combine(tag.Key, tag.Value);
        }

        return hash;
    }

    /// <summary>Whether <paramref name="tags"/> holds exactly these pairs, in any order.</summary>
    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var pairs = Pairs;
        if (tags.Length != pairs.Length)
        {
            return false;
        }

        for (int i = 0; i < tags.Length; i++)
        {
            var tag = tags[i];

            // Callers usually pass their tags in the same order every time, so try the same position first.
            int j = string.Equals(pairs[i].Key, tag.Key, StringComparison.Ordinal) ? i : IndexOf(pairs, tag.Key);
            if (j < 0 || !Equals(pairs[j].Value, tag.Value))
            {
                return false;
            }
        }

        return true;
    }

    private static int IndexOf(KeyValuePair<string, object?>[] pairs, string key)
    {
        for (int i = 0; i < pairs.Length; i++)
        {
            if (string.Equals(pairs[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static (string Labels, string Prefix) RenderLabels(KeyValuePair<string, object?>[] pairs)
    {
        if (pairs.Length == 0)
        {
            return (string.Empty, string.Empty);
        }

        var labels = new (string Name, string OriginalKey, string Value)[pairs.Length];
        for (int i = 0; i < pairs.Length; i++)
        {
            labels[i] = (PrometheusText.SanitizeLabelName(pairs[i].Key), pairs[i].Key, PrometheusText.FormatLabelValue(pairs[i].Value));
        }

        Array.Sort(labels, static (a, b) =>
        {
            int byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.OriginalKey, b.OriginalKey);
        });

        var text = new System.Text.StringBuilder();
        string? previous = null;
        foreach (var (name, _, value) in labels)
        {
            // Two keys that sanitise to the same label name ("a.b", "a_b") would make an invalid series; keep the first.
            if (name == previous)
            {
                continue;
            }

            previous = name;
            text.Append(name).Append("=\"");
            PrometheusText.AppendEscapedLabelValue(text, value);
            text.Append("\",");
        }

        string prefix = text.ToString();
        return ("{" + prefix[..^1] + "}", prefix);
    }
}

/// <summary>
/// Compares stored <see cref="TagSet"/>s with each other and with the raw tag span of a measurement, so that
/// recording into an existing series looks it up without allocating a key.
/// </summary>
internal sealed class TagSetComparer : IEqualityComparer<TagSet>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, TagSet>
{
    public static readonly TagSetComparer Instance = new();

    public bool Equals(TagSet? x, TagSet? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && x.Hash == y.Hash && x.Matches(y.Pairs));

    public int GetHashCode(TagSet obj) => obj.Hash;

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, TagSet other) => other.Matches(alternate);

    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => TagSet.HashOf(alternate);

    public TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => TagSet.Create(alternate);
}
