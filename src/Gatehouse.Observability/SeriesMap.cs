using System.Collections.Concurrent;

namespace Gatehouse.Observability;

/// <summary>The series of one instrument, keyed by tag set; finding an existing series allocates nothing.</summary>
internal sealed class SeriesMap<TSeries>
    where TSeries : class
{
    private readonly ConcurrentDictionary<TagSet, TSeries> _series = new(TagSetComparer.Instance);
    private readonly ConcurrentDictionary<TagSet, TSeries>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
    private readonly Func<TagSet, TSeries> _create;

    public SeriesMap(Func<TagSet, TSeries> create)
    {
        _create = create;
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    public TSeries GetOrAdd(ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _lookup.TryGetValue(tags, out var series) ? series : _series.GetOrAdd(TagSet.Create(tags), _create);

    public void Remove(TagSet tags) => _series.TryRemove(tags, out _);

    /// <summary>A snapshot of the series, sorted by label text so that output is stable between scrapes.</summary>
    public KeyValuePair<TagSet, TSeries>[] Snapshot()
    {
        var snapshot = _series.ToArray();
        Array.Sort(snapshot, static (a, b) => string.CompareOrdinal(a.Key.Labels, b.Key.Labels));
        return snapshot;
    }
}
